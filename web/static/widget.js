/* CRM chat widget: one <script> tag on any company page.
 *
 *   <script src="https://chat.example.co.id/widget/widget.js" data-rasa-url="https://bot.example.co.id" defer></script>
 *
 * Talks to the assistant's socket.io channel. The server issues the session: its token (signed,
 * unguessable) and the messages shown are kept in localStorage, so a page reload continues the
 * same conversation; a token the server does not accept gets a new, empty one. Every text from the server is
 * written with textContent (never as HTML). The socket.io client is served next to this file
 * (vendored from npm at install time, no CDN).
 *
 * Files: a document the bot issues (a statement PDF) is a download button, fetched with the
 * session token in a header (never in a URL) so it opens only in this conversation; the 📎 button
 * sends a photo or PDF as the proof of a payment (the bot answers in the chat).
 */
(function () {
  "use strict";
  if (window.__crmChatLoaded) return;
  window.__crmChatLoaded = true;

  var script = document.currentScript;
  var base = script.src.replace(/[^/]*$/, "");
  var rasaUrl = (script.dataset.rasaUrl || window.location.origin).replace(/\/$/, "");
  var title = script.dataset.title || "Layanan Pelanggan";
  var STORE = "crm-chat:" + rasaUrl;
  var MAX_KEPT = 200;
  var TYPING_TIMEOUT_MS = 20000;

  var T = {
    launcher: "Chat dengan kami",
    subtitle: "Asisten virtual · dibantu tim CRM",
    placeholder: "Tulis pesan…",
    send: "Kirim",
    close: "Tutup",
    typing: "sedang mengetik…",
    connecting: "Menghubungkan…",
    offline: "Koneksi ke layanan chat terputus. Kami mencoba menghubungkan kembali; pesan Anda belum terkirim.",
    failed: "Layanan chat belum dapat dihubungi. Periksa koneksi internet Anda; kami terus mencoba.",
    attach: "Kirim foto bukti bayar",
    download: "Unduh",
    expired: "Tautan sudah tidak berlaku. Minta rincian pembayaran lagi untuk tautan baru.",
    uploadFailed: "File belum terkirim. Coba lagi sebentar lagi."
  };

  function load() {
    try { return JSON.parse(window.localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  var state = load();
  delete state.sessionId;  // ids a browser made itself are no longer accepted
  state.messages = state.messages || [];
  function save() {
    state.messages = state.messages.slice(-MAX_KEPT);
    try { window.localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode: no persistence */ }
  }
  save();

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "widget.css";
  document.head.appendChild(css);

  var root = el("div");
  root.id = "crm-chat";
  var launcher = el("button", "crm-launcher", T.launcher);
  launcher.type = "button";
  launcher.setAttribute("aria-label", T.launcher);
  var panel = el("section", "crm-panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var header = el("div", "crm-header");
  var heading = el("div", "crm-title", title);
  heading.appendChild(el("span", "crm-subtitle", T.subtitle));
  var close = el("button", "crm-close", "×");
  close.type = "button";
  close.setAttribute("aria-label", T.close);
  header.appendChild(heading);
  header.appendChild(close);
  var banner = el("div", "crm-banner", T.connecting);
  banner.setAttribute("role", "status");
  var log = el("div", "crm-log");
  log.setAttribute("aria-live", "polite");
  var typing = el("div", "crm-typing", T.typing);
  typing.hidden = true;
  var form = el("form", "crm-form");
  var input = el("input", "crm-input");
  input.type = "text";
  input.placeholder = T.placeholder;
  input.maxLength = 2000;
  input.setAttribute("aria-label", T.placeholder);
  var send = el("button", "crm-send", T.send);
  send.type = "submit";
  var attach = el("button", "crm-attach", "📎");
  attach.type = "button";
  attach.title = T.attach;
  attach.setAttribute("aria-label", T.attach);
  var picker = el("input", "crm-file");
  picker.type = "file";
  picker.accept = "image/jpeg,image/png,image/webp,application/pdf";
  picker.hidden = true;
  form.appendChild(attach);
  form.appendChild(picker);
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(banner);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);

  function setOpen(open) {
    state.open = open;
    save();
    panel.hidden = !open;
    launcher.hidden = open;
    if (open) { input.focus(); scroll(); }
  }
  function scroll() { log.scrollTop = log.scrollHeight; }

  // WhatsApp-style *bold*, built from text nodes (never HTML)
  function textWithBold(cls, text) {
    var node = el("div", cls);
    String(text).split(/\*([^*\n]+)\*/).forEach(function (part, i) {
      node.appendChild(i % 2 ? el("strong", null, part) : document.createTextNode(part));
    });
    return node;
  }

  function download(file) {
    fetch(rasaUrl + file.url, {headers: {"X-Chat-Session": state.sessionToken || ""}})
      .then(function (answer) {
        if (!answer.ok) throw new Error(String(answer.status));
        return answer.blob();
      })
      .then(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = file.title;
        document.body.appendChild(link);
        link.click();
        setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
      })
      .catch(function () { add({from: "bot", text: T.expired}); });
  }

  function renderMessage(message) {
    if (message.text) log.insertBefore(textWithBold("crm-msg crm-" + message.from, message.text), typing);
    if (message.file) {
      var fileRow = el("div", "crm-buttons crm-files");
      var fileButton = el("button", "crm-download", "📄 " + T.download + " " + message.file.title);
      fileButton.type = "button";
      fileButton.addEventListener("click", function () { download(message.file); });
      fileRow.appendChild(fileButton);
      log.insertBefore(fileRow, typing);
    }
    if (message.buttons && message.buttons.length) {
      var row = el("div", "crm-buttons");
      message.buttons.forEach(function (button) {
        var b = el("button", null, button.title);
        b.type = "button";
        b.disabled = !!message.answered;
        b.addEventListener("click", function () {
          message.answered = true;
          Array.prototype.forEach.call(row.children, function (x) { x.disabled = true; });
          sendText(button.title, button.payload);
        });
        row.appendChild(b);
      });
      log.insertBefore(row, typing);
    }
    scroll();
  }

  function add(message) {
    state.messages.push(message);
    save();
    renderMessage(message);
  }

  var typingTimer = null;
  function showTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, TYPING_TIMEOUT_MS);
    scroll();
  }

  var socket = null;
  var connected = false;

  function setConnected(on, text) {
    connected = on;
    banner.hidden = on;
    if (!on) banner.textContent = text || T.offline;
    send.disabled = !on;
  }

  function sendText(shown, payload) {
    var text = String(shown || "").trim();
    if (!text || !connected) return false;
    add({from: "user", text: text});
    socket.emit("user_uttered", {message: payload || text});
    showTyping(true);
    return true;
  }

  function onBotMessage(data) {
    data = data || {};
    var buttons = (data.quick_replies || data.buttons || []).map(function (b) {
      return {title: b.title, payload: b.payload};
    });
    var payload = (data.attachment && data.attachment.payload) || {};
    var file = data.attachment && data.attachment.type === "file" && typeof payload.url === "string" &&
      payload.url.charAt(0) === "/" ? {title: String(payload.title || "dokumen.pdf"), url: payload.url} : null;
    var text = data.text || (!file && payload.src) || "";
    // more answers may follow right after this one; keep the indicator until the stream pauses
    showTyping(false);
    if (!text && !buttons.length && !file) return;
    add({from: "bot", text: text, buttons: buttons, file: file});
  }

  function connect() {
    if (!window.io) { setConnected(false, T.failed); return; }
    socket = window.io(rasaUrl, {path: "/socket.io", transports: ["websocket", "polling"],
                                 reconnection: true, reconnectionDelay: 1000, reconnectionDelayMax: 10000});
    socket.on("connect", function () {
      socket.emit("session_request", {session_id: state.sessionToken || null});
    });
    socket.on("session_confirm", function (token) {
      if (typeof token === "string" && token !== state.sessionToken) {
        if (state.sessionToken) { state.messages = []; log.textContent = ""; }  // a new conversation
        state.sessionToken = token;
        save();
      }
      setConnected(true);
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", function () { setConnected(false, T.offline); showTyping(false); });
    socket.on("connect_error", function () { setConnected(false, T.failed); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sendText(input.value)) input.value = "";
  });
  attach.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () {
    var chosen = picker.files && picker.files[0];
    picker.value = "";
    if (!chosen || !connected) return;
    add({from: "user", text: "📎 " + chosen.name});
    showTyping(true);
    fetch(rasaUrl + "/webhooks/socketio/proof", {
      method: "POST",
      headers: {"X-Chat-Session": state.sessionToken || "", "Content-Type": chosen.type || "application/octet-stream",
                "X-Filename": encodeURIComponent(chosen.name).slice(0, 120)},
      body: chosen
    }).then(function (answer) {
      // the bot's answer arrives in the chat; only a failure to reach the server is said here
      if (answer.status >= 500) throw new Error(String(answer.status));
    }).catch(function () { showTyping(false); add({from: "bot", text: T.uploadFailed}); });
  });
  launcher.addEventListener("click", function () { setOpen(true); });
  close.addEventListener("click", function () { setOpen(false); });

  function start() {
    document.body.appendChild(root);
    log.appendChild(typing);
    state.messages.forEach(renderMessage);
    setOpen(!!state.open);
    setConnected(false, T.connecting);
    if (window.io) { connect(); return; }
    var client = document.createElement("script");
    client.src = base + "vendor/socket.io.min.js";
    client.onload = connect;
    client.onerror = function () { setConnected(false, T.failed); };
    document.head.appendChild(client);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
