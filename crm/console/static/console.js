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
    var refreshQueue = function () {
      var params = new URLSearchParams(new FormData(filters));
      getJSON("/api/queue?" + params.toString()).then(function (data) {
        var body = queue.querySelector("tbody");
        body.replaceChildren();
        data.items.forEach(function (item) {
          var row = el("tr", null, item.overdue ? "overdue" : "");
          row.dataset.item = item.id;
          var link = el("a", "#" + item.id);
          link.href = "/items/" + item.id;
          var first = el("td"); first.appendChild(link); row.appendChild(first);
          row.appendChild(el("td", item.created + " (" + item.age_minutes + " mnt)"));
          row.appendChild(el("td", item.reason_name));
          row.appendChild(el("td", item.channel));
          row.appendChild(el("td", item.customer ? item.customer.name : "belum terverifikasi"));
          row.appendChild(el("td", item.case ? item.case.reference + " " + item.case.kind : ""));
          row.appendChild(el("td", item.due || "", item.overdue ? "overdue" : ""));
          row.appendChild(el("td", item.status_name + (item.assignee ? " - " + item.assignee : "")));
          body.appendChild(row);
        });
        status.textContent = data.items.length + " item · diperbarui " + new Date().toLocaleTimeString("id-ID");
      }).catch(function (e) { status.textContent = "Gagal memuat antrean: " + e.message; });
    };
    filters.addEventListener("change", refreshQueue);
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
          li.appendChild(el("span", line.text, "text"));
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
      act("reply", {text: box.value}, function () { box.value = ""; });
    });
    resolveForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var box = document.getElementById("resolve-note");
      act("resolve", {note: box.value}, function () { box.value = ""; });
    });
    refreshItem();
    setInterval(refreshItem, 2000);
  }
})();
