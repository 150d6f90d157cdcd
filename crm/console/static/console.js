/* CRM console: the queue and an item's live transcript. Every string from the server is
   written with textContent, never as HTML, so customer text cannot inject markup. */
(function () {
  "use strict";
  var csrf = document.body.dataset.csrf;
  var me = Number(document.body.dataset.me);
  var role = document.body.dataset.role;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.status === 401) { window.location = "/login"; throw new Error("login"); }
        return r.json().then(function (data) { if (!r.ok) throw new Error(data.error || r.status); return data; });
      });
  }

  function postJSON(url, payload) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(payload || {})
    }).then(function (r) {
      return r.json().then(function (data) { if (!r.ok) throw new Error(data.error || r.status); return data; });
    });
  }

  /* --- queue ----------------------------------------------------------------------------- */
  var queue = document.getElementById("queue");
  if (queue) {
    var filters = document.getElementById("filters");
    var status = document.getElementById("queue-status");
    var pageField = filters.querySelector("[name=page]");
    var pageInfo = document.getElementById("page-info");
    var flooding = document.getElementById("flooding");
    var lastPage = 1;
    document.getElementById("prev-page").addEventListener("click", function () {
      pageField.value = Math.max(1, Number(pageField.value) - 1); refreshQueue();
    });
    document.getElementById("next-page").addEventListener("click", function () {
      pageField.value = Math.min(lastPage, Number(pageField.value) + 1); refreshQueue();
    });
    /* a queue row: the item's link, the given cells, then its OJK due time and status */
    var itemRow = function (item, cells) {
      var row = el("tr", null, item.overdue ? "overdue" : "");
      row.dataset.item = item.id;
      var link = el("a", "#" + item.id);
      link.href = "/items/" + item.id;
      var first = el("td"); first.appendChild(link); row.appendChild(first);
      cells.forEach(function (text) { row.appendChild(el("td", text)); });
      row.appendChild(el("td", item.due || "", item.overdue ? "overdue" : ""));
      row.appendChild(el("td", item.status_name + (item.assignee ? " - " + item.assignee : "")));
      return row;
    };
    var refreshQueue = function () {
      var params = new URLSearchParams(new FormData(filters));
      getJSON("/api/queue?" + params.toString()).then(function (data) {
        var body = queue.querySelector("tbody");
        body.replaceChildren();
        data.items.forEach(function (item) {
          body.appendChild(itemRow(item, [
            item.created + " (" + item.age_minutes + " mnt)", item.reason_name, item.channel,
            item.customer ? item.customer.name : "belum terverifikasi",
            item.case ? item.case.reference + " " + item.case.kind : ""]));
        });
        var urgentBody = document.querySelector("#urgent tbody");
        urgentBody.replaceChildren();
        data.most_urgent.forEach(function (item) {
          urgentBody.appendChild(itemRow(item, [item.reason_name, item.channel]));
        });
        lastPage = Math.max(1, Math.ceil(data.total / data.per_page));
        pageInfo.textContent = "halaman " + data.page + " dari " + lastPage;
        status.textContent = data.total + " item · diperbarui " + new Date().toLocaleTimeString("id-ID");
        flooding.hidden = !data.flooding.length;
        flooding.textContent = data.flooding.length ? "Banjir item: " + data.flooding.map(function (f) {
          return f.source + " membuat " + f.items_last_hour + " item belum terverifikasi dalam 1 jam terakhir";
        }).join("; ") + ". Item berikutnya dari sumber yang sama digabung." : "";
      }).catch(function (e) { status.textContent = "Gagal memuat antrean: " + e.message; });
      refreshLocks();
    };
    var locks = document.getElementById("locks");
    var refreshLocks = function () {
      getJSON("/api/verification-locks").then(function (data) {
        var body = locks.querySelector("tbody");
        body.replaceChildren();
        data.locks.forEach(function (lock) {
          var row = el("tr");
          row.appendChild(el("td", lock.contract));
          row.appendChild(el("td", lock.locked_at));
          row.appendChild(el("td", lock.until));
          row.appendChild(el("td", lock.failures));
          var cell = el("td");
          var button = el("button", "Buka kunci");
          button.type = "button";
          button.addEventListener("click", function () {
            button.disabled = true;
            postJSON("/api/verification-locks/" + encodeURIComponent(lock.contract) + "/release")
              .then(refreshLocks).catch(function (e) { button.disabled = false; alert(e.message); });
          });
          cell.appendChild(button);
          row.appendChild(cell);
          body.appendChild(row);
        });
        if (!data.locks.length) body.appendChild(el("tr")).appendChild(el("td", "Tidak ada.", "muted"));
      }).catch(function () { /* the queue status line already says when the console is unreachable */ });
    };
    filters.addEventListener("change", function (e) {
      if (e.target !== pageField) pageField.value = 1;
      refreshQueue();
    });
    filters.addEventListener("submit", function (e) { e.preventDefault(); refreshQueue(); });
    refreshQueue();
    setInterval(refreshQueue, 3000);
  }

  /* --- one item ------------------------------------------------------------------------------ */
  var section = document.getElementById("item");
  if (section) {
    var itemId = section.dataset.item;
    var message = document.getElementById("message");
    var list = document.getElementById("transcript");
    var claim = document.getElementById("claim");
    var replyForm = document.getElementById("reply-form");
    var resolveForm = document.getElementById("resolve-form");
    var shown = -1;
    var WHO = {customer: "Pelanggan", bot: "Bot", agent: "Petugas", system: "Sistem"};

    var render = function (data) {
      var item = data.item;
      document.getElementById("item-status").textContent = item.status_name;
      document.getElementById("item-assignee").textContent = item.assignee || "-";
      var mine = item.status === "claimed" && (item.assignee_id === me || role === "supervisor");
      claim.hidden = !(item.status === "open" || (item.status === "claimed" && role === "supervisor" && item.assignee_id !== me));
      replyForm.hidden = !mine;
      resolveForm.hidden = !(mine || (role === "supervisor" && item.status !== "resolved"));
      if (!data.transcript_available) message.textContent = "Transkrip belum dapat dimuat (Rasa tidak menjawab).";
      if (data.transcript.length !== shown) {
        list.replaceChildren();
        data.transcript.forEach(function (line) {
          var li = el("li", null, "line " + line.who);
          li.appendChild(el("span", (line.who === "agent" && line.agent) ? line.agent : WHO[line.who], "who"));
          var text = el("span", line.text, "text");
          if (line.who === "customer" && line.intent) {
            text.appendChild(el("span", line.intent + " " + Number(line.confidence || 0).toFixed(2), "intent"));
            var flag = el("button", "Salah paham?", "flag");
            flag.type = "button";
            flag.title = "Kirim pesan ini ke NLU inbox untuk trainer";
            flag.addEventListener("click", function () {
              postJSON("/api/nlu-flags", {text: line.text, intent: line.intent, conversation_id: data.item.conversation_id})
                .then(function () { flag.textContent = "Ditandai"; flag.disabled = true; })
                .catch(function (e) { message.textContent = e.message; });
            });
            text.appendChild(flag);
          }
          li.appendChild(text);
          list.appendChild(li);
        });
        shown = data.transcript.length;
        list.scrollTop = list.scrollHeight;
      }
    };
    var refreshItem = function () {
      return getJSON("/api/items/" + itemId).then(render).catch(function (e) { message.textContent = e.message; });
    };
    var act = function (path, payload, after) {
      message.textContent = "";
      return postJSON("/api/items/" + itemId + "/" + path, payload)
        .then(function (data) { if (after) after(); if (data && data.warning) message.textContent = data.warning; return refreshItem(); })
        .catch(function (e) { message.textContent = e.message; });
    };
    claim.addEventListener("click", function () { act("claim"); });
    replyForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var box = document.getElementById("reply-text");
      if (!box.value.trim()) return;
      act("reply", {text: box.value}, function () { box.value = ""; }).then(function () {
        // WhatsApp refuses free text 24 hours after the customer's last message: offer the template
        templateButton.hidden = message.textContent.indexOf("24 jam") < 0;
      });
    });
    var templateButton = document.getElementById("send-template");
    templateButton.addEventListener("click", function () {
      var box = document.getElementById("reply-text");
      if (!box.value.trim()) return;
      act("template", {text: box.value}, function () { box.value = ""; templateButton.hidden = true; });
    });
    resolveForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var box = document.getElementById("resolve-note");
      act("resolve", {note: box.value}, function () { box.value = ""; });
    });
    refreshItem();
    setInterval(refreshItem, 2000);
  }
  /* --- NLU inbox (supervisors / trainers) ------------------------------------------------------ */
  var inboxTable = document.getElementById("inbox");
  if (inboxTable) {
    var inboxStatus = document.getElementById("inbox-status");
    var inboxMessage = document.getElementById("message");
    var REASONS = {fallback: "fallback", low_confidence: "keyakinan rendah", ambiguous: "dua intent berdekatan",
                   flagged: "ditandai petugas", customer_chose: "dipilih pelanggan"};
    var loadInbox = function () {
      getJSON("/api/nlu-inbox").then(function (data) {
        var body = inboxTable.querySelector("tbody");
        body.replaceChildren();
        data.entries.forEach(function (entry) {
          var row = el("tr");
          row.appendChild(el("td", entry.text));
          row.appendChild(el("td", entry.count));
          row.appendChild(el("td", entry.reasons.map(function (r) {
            return r === "customer_chose" ? REASONS[r] + ": " + entry.chosen : (REASONS[r] || r);
          }).join(", ")));
          row.appendChild(el("td", entry.predicted ? entry.predicted + " (" + Number(entry.confidence || 0).toFixed(2) + ")" : "-"));
          var cell = el("td");
          var input = el("input");
          input.setAttribute("list", "intents");
          input.placeholder = "nama intent";
          input.value = entry.chosen || entry.predicted || "";  // the customer's click knows best
          var save = el("button", "Simpan sebagai contoh");
          save.type = "button";
          save.addEventListener("click", function () {
            inboxMessage.textContent = "";
            postJSON("/api/nlu-inbox/label", {text: entry.text, intent: input.value.trim()})
              .then(function (r) { inboxStatus.textContent = "Ditulis ke " + r.file; loadInbox(); })
              .catch(function (e) { inboxMessage.textContent = e.message; });
          });
          var skip = el("button", "Abaikan");
          skip.type = "button";
          skip.addEventListener("click", function () {
            postJSON("/api/nlu-inbox/dismiss", {key: entry.key}).then(loadInbox)
              .catch(function (e) { inboxMessage.textContent = e.message; });
          });
          cell.appendChild(input);
          cell.appendChild(save);
          cell.appendChild(skip);
          row.appendChild(cell);
          body.appendChild(row);
        });
        if (!inboxStatus.textContent || inboxStatus.textContent.indexOf("Ditulis") !== 0) {
          inboxStatus.textContent = data.entries.length + " pesan menunggu";
        }
      }).catch(function (e) { inboxMessage.textContent = e.message; });
    };
    loadInbox();
  }
})();
