/* kefu chat client — plain JS, no framework, no build step.
 *
 * One WebSocket to /ws (reconnect with backoff, `resume` with the last seq per conversation),
 * messages deduplicated by (conversation_id, seq), optimistic sends with a client_msg_id that
 * is reused on every retry, and the pages: the buyer's chat, the buyer's list, the merchant
 * workbench. All user text goes into the page through textContent, never as HTML.
 * Contract: docs/chat-protocol.md.
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ helpers
  function readJSON(id) {
    const node = document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent || "null"); } catch (error) { return null; }
  }

  const I18N = readJSON("chat-i18n") || {};
  const BOOT = readJSON("chat-boot") || {};

  /** Translated string by key; `{name}` placeholders are filled from params. */
  function t(key, params) {
    let text = Object.prototype.hasOwnProperty.call(I18N, key) ? I18N[key] : key;
    if (params) {
      for (const [name, value] of Object.entries(params)) {
        text = text.split("{" + name + "}").join(String(value));
      }
    }
    return text;
  }

  function safeUrl(value) {
    const text = String(value || "");
    if (text.startsWith("/") && !text.startsWith("//")) return text;
    if (text.startsWith("blob:")) return text;
    try {
      const url = new URL(text, location.href);
      if (url.protocol === "https:" || url.protocol === "http:") return url.href;
    } catch (error) { /* not a URL */ }
    return "#";
  }

  /** Build an element; strings become text nodes, never markup. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = String(value);
        else if (key === "dataset") Object.assign(node.dataset, value);
        else if (key.startsWith("on") && typeof value === "function") {
          node.addEventListener(key.slice(2), value);
        } else if (key === "href" || key === "src") node.setAttribute(key, safeUrl(value));
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function uuid() {
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    // Plain-http deployments (not a secure context) have no randomUUID.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** Server times are ISO 8601; a time without a zone is UTC. */
  function parseTime(value) {
    if (!value) return null;
    if (typeof value === "number") return value;
    let text = String(value);
    if (!/(Z|[+-]\d\d:?\d\d)$/.test(text)) text += "Z";
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : ms;
  }

  const TIMEZONE = BOOT.timezone || "Asia/Shanghai";
  const LANG = document.documentElement.lang || "zh-CN";
  let dayFormat, timeFormat, dateTimeFormat;
  try {
    dayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: TIMEZONE, year: "numeric", month: "2-digit", day: "2-digit" });
    timeFormat = new Intl.DateTimeFormat(LANG, { timeZone: TIMEZONE, hour: "2-digit", minute: "2-digit", hour12: false });
    dateTimeFormat = new Intl.DateTimeFormat(LANG, { timeZone: TIMEZONE, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  } catch (error) {
    dayFormat = new Intl.DateTimeFormat("en-CA");
    timeFormat = new Intl.DateTimeFormat(LANG, { hour: "2-digit", minute: "2-digit", hour12: false });
    dateTimeFormat = new Intl.DateTimeFormat(LANG, { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  }

  function formatTime(value) {
    const ms = parseTime(value);
    if (ms === null) return "";
    const sameDay = dayFormat.format(ms) === dayFormat.format(serverNow());
    return (sameDay ? timeFormat : dateTimeFormat).format(ms);
  }

  /** 125 s → "2:05"; an hour or more → "1:02:05". */
  function formatDuration(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = String(total % 60).padStart(2, "0");
    return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
  }

  function yuan(fen) {
    return typeof fen === "number" ? (fen / 100).toFixed(2) : "";
  }

  // ------------------------------------------------------------------ server clock
  // The server may run a demo/test clock; countdowns use the server's time, not the browser's.
  // BOOT.now was taken when the page was rendered, i.e. just before its first byte arrived.
  function pageArrivedAt() {
    try {
      const navigation = performance.getEntriesByType("navigation")[0];
      if (navigation && navigation.responseStart > 0) return performance.timeOrigin + navigation.responseStart;
    } catch (error) { /* old browser */ }
    return Date.now();
  }
  let clockOffset = BOOT.now ? parseTime(BOOT.now) - pageArrivedAt() : 0;
  function serverNow() { return Date.now() + clockOffset; }

  async function resyncTestClock() {
    const sent = Date.now();
    const result = await api("GET", "/api/test-clock");
    if (result.ok && result.data && result.data.now) {
      clockOffset = parseTime(result.data.now) - (sent + Date.now()) / 2;
    }
  }

  const tickers = new Set();
  setInterval(() => {
    const now = serverNow();
    for (const fn of tickers) {
      try { fn(now); } catch (error) { console.error(error); }
    }
  }, 1000);

  // ------------------------------------------------------------------ HTTP
  const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  async function api(method, path, body, options) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
    let payload;
    if (options && options.form) payload = options.form;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
    } catch (error) {
      return { ok: false, status: 0, data: null, network: true };
    }
    let data = null;
    if ((response.headers.get("content-type") || "").includes("json")) {
      try { data = await response.json(); } catch (error) { data = null; }
    }
    return { ok: response.ok, status: response.status, data };
  }

  function errorOf(result) {
    if (result.data && result.data.error) return result.data.error;
    if (result.network) return { code: "network", message: t("network_error") };
    return { code: "http_" + result.status, message: t("request_failed") };
  }

  /** Worth retrying with the same client_msg_id: the server may not have it yet. */
  function retryable(result) {
    return result.network || result.status === 0 || result.status === 408 ||
      result.status === 429 || result.status >= 500;
  }

  // ------------------------------------------------------------------ realtime
  class Realtime {
    constructor() {
      this.lastSeq = new Map();
      this.listeners = new Map();
      this.ws = null;
      this.attempt = 0;
      this.timer = null;
      this.pingTimer = null;
      this.lastHeard = 0;
      this.opened = 0;
      window.addEventListener("online", () => this.connectSoon());
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") this.connectSoon();
      });
    }

    on(type, fn) {
      if (!this.listeners.has(type)) this.listeners.set(type, []);
      this.listeners.get(type).push(fn);
    }

    emit(type, data) {
      for (const fn of this.listeners.get(type) || []) {
        try { fn(data); } catch (error) { console.error(error); }
      }
    }

    /** Remember the highest seq seen, for `resume` after a reconnect. */
    track(conversationId, seq) {
      const key = String(conversationId);
      if ((this.lastSeq.get(key) || 0) < (seq || 0)) this.lastSeq.set(key, seq);
      else if (!this.lastSeq.has(key)) this.lastSeq.set(key, seq || 0);
    }

    get connected() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }

    connectSoon() {
      if (this.ws) return;
      clearTimeout(this.timer);
      this.connect();
    }

    connect() {
      clearTimeout(this.timer);
      if (this.ws) return;
      const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
      let ws;
      try { ws = new WebSocket(url); } catch (error) { this.schedule(); return; }
      this.ws = ws;
      ws.addEventListener("open", () => {
        this.attempt = 0;
        this.opened += 1;
        this.lastHeard = Date.now();
        this.send({ type: "resume", conversations: Object.fromEntries(this.lastSeq) });
        this.startPing();
        this.emit("state", "online");
        this.emit("open", { reconnect: this.opened > 1 });
      });
      ws.addEventListener("message", (event) => {
        this.lastHeard = Date.now();
        let data;
        try { data = JSON.parse(event.data); } catch (error) { return; }
        if (!data || typeof data.type !== "string" || data.type === "pong") return;
        if (data.type === "message" && data.message) {
          this.track(data.message.conversation_id, data.message.seq);
        }
        this.emit(data.type, data);
        // A message event may carry its conversation's new state: one frame instead of two.
        if (data.type === "message" && data.conversation) {
          this.emit("conversation", { type: "conversation", conversation: data.conversation });
        }
      });
      ws.addEventListener("close", (event) => {
        this.stopPing();
        if (this.ws !== ws) return;
        this.ws = null;
        this.emit("state", "offline");
        if (event.code === 4401 || event.code === 4403) {
          // Signed out (or a foreign origin): retrying cannot help until the page reloads.
          this.emit("denied", event.code);
          return;
        }
        this.schedule();
      });
      ws.addEventListener("error", () => { try { ws.close(); } catch (error) { /* closed */ } });
    }

    schedule() {
      clearTimeout(this.timer);
      const base = Math.min(30000, 1000 * 2 ** this.attempt);
      this.attempt = Math.min(this.attempt + 1, 5);
      this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
    }

    send(payload) {
      if (!this.connected) return false;
      this.ws.send(JSON.stringify(payload));
      return true;
    }

    startPing() {
      this.stopPing();
      this.pingTimer = setInterval(() => {
        if (Date.now() - this.lastHeard > 60000 && this.ws) {
          this.ws.close(); // silent for a minute: a dead connection
          return;
        }
        this.send({ type: "ping" });
      }, 25000);
    }

    stopPing() { clearInterval(this.pingTimer); this.pingTimer = null; }
  }

  function showConnection(node, realtime) {
    if (!node) return;
    realtime.on("state", (state) => {
      node.dataset.state = state;
      node.textContent = state === "online" ? t("online") : t("reconnecting");
    });
    realtime.on("denied", () => { node.textContent = t("login_again"); });
  }

  // ------------------------------------------------------------------ alerts
  const Alerts = {
    audio: null,
    soundOn: localStorage.getItem("kefu.sound") !== "off",
    unlock() {
      try {
        const Context = window.AudioContext || window.webkitAudioContext;
        if (!Context) return;
        this.audio = this.audio || new Context();
        if (this.audio.state === "suspended") this.audio.resume();
      } catch (error) { this.audio = null; }
    },
    beep() {
      if (!this.soundOn || !this.audio || this.audio.state !== "running") return;
      const ctx = this.audio;
      const start = ctx.currentTime;
      [[880, 0], [660, 0.16]].forEach(([frequency, offset]) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, start + offset);
        gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.15);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start + offset);
        osc.stop(start + offset + 0.17);
      });
    },
    async askPermission() {
      this.unlock();
      if (!("Notification" in window)) return "unsupported";
      if (Notification.permission === "default") {
        try { return await Notification.requestPermission(); } catch (error) { return "denied"; }
      }
      return Notification.permission;
    },
    notify(title, body, tag, onClick) {
      this.beep();
      if (!("Notification" in window) || Notification.permission !== "granted") return;
      if (document.visibilityState === "visible" && document.hasFocus()) return;
      try {
        const note = new Notification(title, { body, tag, renotify: true });
        note.onclick = () => { window.focus(); note.close(); if (onClick) onClick(); };
      } catch (error) { /* some browsers only allow notifications from a service worker */ }
    },
  };

  // ------------------------------------------------------------------ image viewer
  function openImage(url) {
    const close = () => { overlay.remove(); document.removeEventListener("keydown", onKey); };
    const onKey = (event) => { if (event.key === "Escape") close(); };
    const overlay = el("div", { class: "chat-lightbox", role: "dialog", "aria-modal": "true", "aria-label": t("image"), onclick: close },
      el("img", { src: url, alt: t("image") }),
      el("button", { type: "button", class: "chat-lightbox-close", "aria-label": t("close"), text: "×" }));
    document.addEventListener("keydown", onKey);
    document.body.append(overlay);
  }

  // ------------------------------------------------------------------ message preview
  function previewOf(message) {
    if (!message) return "";
    switch (message.kind) {
      case "image": return t("preview_image");
      case "product_card": return t("preview_product", { title: (message.product && message.product.title) || "" });
      case "order_card": return t("preview_order", { no: (message.order && (message.order.order_no || message.order.id)) || "" });
      default: return message.text || "";
    }
  }

  // ------------------------------------------------------------------ one conversation
  /**
   * The messages of one conversation: loading, ordering, dedupe by seq, optimistic sends,
   * receipts. `side` is the viewer's side: "buyer" or "store".
   */
  class ConversationPane {
    constructor(conversation, side, realtime, hooks) {
      this.conv = conversation;
      this.id = conversation.id;
      this.side = side;
      this.realtime = realtime;
      this.hooks = hooks || {};
      this.messages = new Map();
      this.items = new Map(); // seq → <li>
      this.pending = new Map(); // client_msg_id → {body, file, item, state, error, attempts, timer}
      this.firstSeq = null;
      this.lastSeq = 0;
      this.hasMore = false;
      this.loaded = false;
      this.readTimer = null;
      this.shown = true;

      this.list = el("ol", { class: "chat-messages", "aria-live": "polite", "data-testid": "messages" });
      this.earlier = el("button", { type: "button", class: "link chat-earlier", hidden: true, text: t("load_earlier"), onclick: () => this.loadEarlier() });
      this.status = el("p", { class: "muted chat-loading", text: t("loading") });
      this.scroller = el("div", { class: "chat-scroll", dataset: { conversation: String(this.id) } },
        this.earlier, this.status, this.list);
    }

    get ownReadSeq() { return this.side === "buyer" ? this.conv.buyer_read_seq || 0 : this.conv.store_read_seq || 0; }
    get peerReadSeq() { return this.side === "buyer" ? this.conv.store_read_seq || 0 : this.conv.buyer_read_seq || 0; }

    nearBottom() {
      const s = this.scroller;
      return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
    }

    scrollToBottom() { this.scroller.scrollTop = this.scroller.scrollHeight; }

    async loadLatest() {
      const before = (this.conv.last_seq || 0) + 1;
      const result = await api("GET", `/api/conversations/${this.id}/messages?before_seq=${before}&limit=50`);
      if (!result.ok) {
        this.status.hidden = false;
        this.status.textContent = errorOf(result).message;
        return;
      }
      this.loaded = true;
      this.status.hidden = true;
      this.hasMore = !!result.data.has_more;
      for (const message of result.data.messages || []) this.add(message, { quiet: true });
      this.earlier.hidden = !this.hasMore;
      this.refreshEmpty();
      this.scrollToBottom();
      // A message committed between the page and this request comes via the socket or here.
      await this.catchUp();
      this.markReadSoon();
    }

    async loadEarlier() {
      if (this.firstSeq === null) return;
      this.earlier.disabled = true;
      const result = await api("GET", `/api/conversations/${this.id}/messages?before_seq=${this.firstSeq}&limit=50`);
      this.earlier.disabled = false;
      if (!result.ok) return;
      const height = this.scroller.scrollHeight;
      const top = this.scroller.scrollTop;
      for (const message of result.data.messages || []) this.add(message, { quiet: true });
      this.hasMore = !!result.data.has_more;
      this.earlier.hidden = !this.hasMore;
      this.scroller.scrollTop = top + (this.scroller.scrollHeight - height);
    }

    /** Fetch everything after the last seq we hold (after a gap or a reconnect). */
    async catchUp() {
      for (let round = 0; round < 20; round += 1) {
        const result = await api("GET", `/api/conversations/${this.id}/messages?after_seq=${this.lastSeq}&limit=200`);
        if (!result.ok) return;
        const messages = result.data.messages || [];
        for (const message of messages) this.add(message);
        if (!result.data.has_more || !messages.length) return;
      }
    }

    /** A conversation event says there is more than we hold (a message sent to a channel
     * we no longer hear, like the note of a transfer away from us): fetch it. */
    catchUpSoon() {
      clearTimeout(this.catchUpTimer);
      this.catchUpTimer = setTimeout(() => {
        if (this.loaded && (this.conv.last_seq || 0) > this.lastSeq) this.catchUp();
      }, 300);
    }

    /** Show the message with this seq, loading the page around it if needed. */
    async reveal(seq) {
      if (!this.items.has(seq)) {
        const result = await api("GET", `/api/conversations/${this.id}/messages?before_seq=${seq + 25}&limit=50`);
        if (result.ok) for (const message of result.data.messages || []) this.add(message, { quiet: true });
        if (this.firstSeq !== null && this.firstSeq > 1) this.earlier.hidden = false;
      }
      const item = this.items.get(seq);
      if (!item) return;
      item.scrollIntoView({ block: "center" });
      item.classList.add("flash-hit");
      setTimeout(() => item.classList.remove("flash-hit"), 2500);
    }

    refreshEmpty() {
      if (this.loaded && !this.items.size && !this.pending.size) {
        this.status.hidden = false;
        this.status.textContent = this.side === "buyer" ? t("empty_buyer") : t("empty_store");
      } else if (this.loaded) {
        this.status.hidden = true;
      }
    }

    /** Add a delivered message (from the API or the socket); duplicates are dropped. */
    add(message, options) {
      if (!message || message.conversation_id !== this.id || typeof message.seq !== "number") return;
      const quiet = options && options.quiet;
      const known = this.messages.get(message.seq);
      if (known) {
        // The sender's own copy may carry a warning the socket copy lacks.
        if (message.warning && !known.warning) this.replace(message);
        return;
      }
      const gap = !quiet && this.loaded && this.lastSeq > 0 && message.seq > this.lastSeq + 1;
      const stick = this.nearBottom();
      const mine = message.sender_side === this.side;
      let item = null;
      if (message.client_msg_id && this.pending.has(message.client_msg_id)) {
        const pending = this.pending.get(message.client_msg_id);
        clearTimeout(pending.timer);
        if (pending.objectUrl) setTimeout(() => URL.revokeObjectURL(pending.objectUrl), 5000);
        pending.item.remove();
        this.pending.delete(message.client_msg_id);
      }
      this.messages.set(message.seq, message);
      item = this.render(message);
      this.items.set(message.seq, item);
      this.insert(item, message.seq);
      if (this.firstSeq === null || message.seq < this.firstSeq) this.firstSeq = message.seq;
      if (message.seq > this.lastSeq) {
        this.lastSeq = message.seq;
        if (this.conv.last_seq === undefined || this.conv.last_seq < message.seq) this.conv.last_seq = message.seq;
      }
      if (this.realtime) this.realtime.track(this.id, this.lastSeq);
      this.refreshEmpty();
      if (!quiet) {
        if (stick || mine) this.scrollToBottom();
        this.markReadSoon();
        if (this.hooks.onMessage) this.hooks.onMessage(message);
      }
      if (gap) this.catchUp();
    }

    replace(message) {
      this.messages.set(message.seq, message);
      const old = this.items.get(message.seq);
      const item = this.render(message);
      this.items.set(message.seq, item);
      if (old) old.replaceWith(item); else this.insert(item, message.seq);
    }

    insert(item, seq) {
      let before = null;
      for (const child of this.list.children) {
        const childSeq = child.dataset.seq ? Number(child.dataset.seq) : Infinity;
        if (childSeq > seq) { before = child; break; }
      }
      this.list.insertBefore(item, before);
    }

    // ---- rendering
    render(message, pending) {
      const seq = message.seq;
      const dataset = { kind: message.kind };
      if (typeof seq === "number") dataset.seq = String(seq);
      if (message.client_msg_id) dataset.cmid = message.client_msg_id;
      if (message.kind === "system") {
        return el("li", { class: "msg system", dataset },
          el("span", { class: "msg-note", text: message.text || "" }));
      }
      const mine = message.sender_side === this.side;
      const auto = !!message.is_auto_reply || message.kind === "auto_reply";
      const classes = ["msg", mine ? "mine" : "theirs"];
      if (auto) classes.push("auto");
      if (message.kind === "nudge") classes.push("nudge");
      if (pending) classes.push("pending");
      const meta = el("div", { class: "msg-meta" });
      const showName = !mine || this.side === "store";
      if (showName && message.sender_name) meta.append(el("span", { class: "msg-name", text: message.sender_name }));
      if (auto) meta.append(el("span", { class: "msg-auto", "data-testid": "auto-reply-label", text: t("auto_reply") }));
      if (message.kind === "nudge") meta.append(el("span", { class: "msg-tag", text: t("nudge_tag") }));
      if (message.created_at) meta.append(el("time", { datetime: message.created_at, text: formatTime(message.created_at) }));
      const item = el("li", { class: classes.join(" "), dataset }, meta, this.renderBody(message));
      if (mine && message.warning) {
        const warning = typeof message.warning === "string" ? message.warning : (message.warning.message || "");
        item.append(el("div", { class: "msg-warning", role: "alert", "data-testid": "message-warning", text: warning }));
      }
      if (mine) item.append(el("div", { class: "msg-status" }));
      if (mine && !pending) this.setReceipt(item, seq);
      return item;
    }

    renderBody(message) {
      if (message.kind === "image") {
        const full = message.image_url || message.thumbnail_url;
        const thumb = message.thumbnail_url || message.image_url;
        return el("a", { class: "msg-image", href: full, target: "_blank", rel: "noopener", title: t("open_image"),
          onclick: (event) => { event.preventDefault(); openImage(full); } },
        el("img", { src: thumb, alt: t("image"), loading: "lazy" }));
      }
      if (message.kind === "product_card" && message.product) {
        const p = message.product;
        const image = p.image_url || p.thumbnail_url || (Array.isArray(p.images) && p.images[0]) || "/static/placeholder.svg";
        return el("a", { class: "chat-card", href: p.url || `/products/${p.id}`, "data-testid": "product-card" },
          el("img", { src: image, alt: "" }),
          el("span", { class: "chat-card-body" },
            el("span", { class: "chat-card-kind", text: t("card_product") }),
            el("span", { class: "chat-card-title", text: p.title || "" }),
            typeof p.price_fen === "number" ? el("span", { class: "price", text: "¥" + yuan(p.price_fen) }) : null));
      }
      if (message.kind === "order_card" && message.order) {
        const o = message.order;
        const first = Array.isArray(o.items) && o.items[0];
        const image = o.image_url || o.thumbnail_url || (first && first.image_url) || "/static/placeholder.svg";
        const title = o.title || (first && first.title) || "";
        return el("a", { class: "chat-card", href: o.url || `/orders/${o.id}`, "data-testid": "order-card" },
          el("img", { src: image, alt: "" }),
          el("span", { class: "chat-card-body" },
            el("span", { class: "chat-card-kind", text: t("card_order", { no: o.order_no || o.id }) }),
            title ? el("span", { class: "chat-card-title", text: title }) : null,
            el("span", { class: "chat-card-line" },
              typeof o.amount_fen === "number" ? el("span", { class: "price", text: "¥" + yuan(o.amount_fen) }) : null,
              o.status_label || o.status ? el("span", { class: "badge", text: o.status_label || o.status }) : null)));
      }
      return el("div", { class: "bubble", text: message.text || "" });
    }

    setReceipt(item, seq) {
      const status = item.querySelector(".msg-status");
      if (!status || typeof seq !== "number") return;
      const read = this.peerReadSeq >= seq;
      status.className = "msg-status " + (read ? "read" : "unread");
      status.textContent = read ? t("read") : t("unread");
    }

    refreshReceipts() {
      for (const [seq, item] of this.items) {
        if (item.classList.contains("mine")) this.setReceipt(item, seq);
      }
    }

    updateConversation(conversation) {
      const before = this.peerReadSeq;
      // Read marks only move forward: a snapshot fetched before a read event arrived must
      // not take a receipt back to "unread".
      const reads = { buyer_read_seq: this.conv.buyer_read_seq || 0,
        store_read_seq: this.conv.store_read_seq || 0 };
      Object.assign(this.conv, conversation);
      for (const key of Object.keys(reads)) {
        if ((this.conv[key] || 0) < reads[key]) this.conv[key] = reads[key];
      }
      if (this.peerReadSeq !== before) this.refreshReceipts();
      if ((this.conv.last_seq || 0) > this.lastSeq) this.catchUpSoon();
    }

    applyRead(event) {
      const key = event.side === "buyer" ? "buyer_read_seq" : "store_read_seq";
      if ((this.conv[key] || 0) >= event.seq) return;
      this.conv[key] = event.seq;
      if (event.side !== this.side) this.refreshReceipts();
    }

    // ---- reading
    markReadSoon() {
      clearTimeout(this.readTimer);
      this.readTimer = setTimeout(() => this.markRead(), 400);
    }

    async markRead() {
      if (this.side !== "buyer" && this.side !== "store") return;
      if (!this.shown || document.visibilityState !== "visible") return;
      if (this.lastSeq <= this.ownReadSeq) return;
      const seq = this.lastSeq;
      const result = await api("POST", `/api/conversations/${this.id}/read`, { seq });
      if (result.ok) {
        this.readRetries = 0;
        const key = this.side === "buyer" ? "buyer_read_seq" : "store_read_seq";
        this.conv[key] = Math.max(this.conv[key] || 0, (result.data && result.data.read_seq) || seq);
        this.conv.unread_count = 0;
        if (this.hooks.onRead) this.hooks.onRead(this.conv);
      } else if ((this.readRetries = (this.readRetries || 0) + 1) <= 3) {
        // A busy server must not leave the buyer thinking nobody read the question.
        clearTimeout(this.readTimer);
        this.readTimer = setTimeout(() => this.markRead(), 1500 * this.readRetries);
      }
    }

    // ---- sending
    sendText(text) {
      const body = { client_msg_id: uuid(), kind: "text", text };
      this.queue({ body, preview: { kind: "text", text } });
    }

    sendImage(file) {
      if (BOOT.image_max_bytes && file.size > BOOT.image_max_bytes) {
        this.hooks.onError && this.hooks.onError(t("image_too_large"));
        return;
      }
      const objectUrl = URL.createObjectURL(file);
      this.queue({ body: { client_msg_id: uuid(), kind: "image" }, file, objectUrl,
        preview: { kind: "image", image_url: objectUrl, thumbnail_url: objectUrl } });
    }

    queue(entry) {
      const message = Object.assign({
        conversation_id: this.id, client_msg_id: entry.body.client_msg_id, sender_side: this.side,
        sender_name: BOOT.me && BOOT.me.name, created_at: new Date(serverNow()).toISOString(),
      }, entry.preview);
      entry.message = message;
      entry.item = this.render(message, true);
      entry.attempts = 0;
      this.pending.set(entry.body.client_msg_id, entry);
      this.list.append(entry.item);
      this.refreshEmpty();
      this.scrollToBottom();
      this.setPendingState(entry, "sending");
      this.deliver(entry);
    }

    async deliver(entry) {
      clearTimeout(entry.timer);
      if (!this.pending.has(entry.body.client_msg_id) || entry.inFlight) return;
      entry.inFlight = true;
      entry.attempts += 1;
      let result;
      if (entry.file) {
        const form = new FormData();
        form.append("client_msg_id", entry.body.client_msg_id);
        form.append("file", entry.file, entry.file.name || "image");
        result = await api("POST", `/api/conversations/${this.id}/images`, undefined, { form });
      } else {
        result = await api("POST", `/api/conversations/${this.id}/messages`, entry.body);
      }
      entry.inFlight = false;
      if (result.ok && result.data) {
        // Also when the socket copy came first: only this copy carries the sender's warning.
        this.add(result.data);
        if (this.hooks.onSent) this.hooks.onSent(result.data);
        return;
      }
      if (!this.pending.has(entry.body.client_msg_id)) return;
      if (retryable(result)) {
        // Same client_msg_id every time: the server answers a resend with the original.
        this.setPendingState(entry, "retrying");
        const delay = Math.min(30000, 1000 * 2 ** Math.min(entry.attempts, 5));
        entry.timer = setTimeout(() => this.deliver(entry), delay);
        return;
      }
      if (result.status === 401) {
        this.setPendingState(entry, "failed", { message: t("login_again") });
        return;
      }
      this.setPendingState(entry, "failed", errorOf(result));
    }

    retryPending() {
      for (const entry of this.pending.values()) {
        if (entry.state === "retrying") this.deliver(entry);
      }
    }

    setPendingState(entry, state, error) {
      entry.state = state;
      entry.error = error || null;
      const item = entry.item;
      const status = item.querySelector(".msg-status");
      item.classList.toggle("failed", state === "failed");
      status.replaceChildren();
      if (state === "sending") {
        status.className = "msg-status sending";
        status.textContent = t("sending");
        return;
      }
      if (state === "retrying") {
        status.className = "msg-status sending";
        status.textContent = t("retrying");
        return;
      }
      status.className = "msg-status failed";
      status.setAttribute("role", "alert");
      status.dataset.testid = "send-failed";
      const blocked = error && error.code === "diversion_blocked";
      status.append(el("strong", { text: t("not_sent") }));
      const details = (error && error.details) || {};
      const reason = [error && error.message, details.reason && details.reason !== (error && error.message) ? details.reason : null]
        .filter(Boolean).join(" · ");
      if (reason) status.append(el("span", { class: "msg-reason", text: reason }));
      if (blocked) {
        item.classList.add("blocked");
        if (entry.body.kind === "text" && this.hooks.onEdit) {
          status.append(el("button", { type: "button", class: "link", text: t("edit"),
            onclick: () => { this.discard(entry); this.hooks.onEdit(entry.body.text); } }));
        }
      } else {
        status.append(el("button", { type: "button", class: "link", text: t("retry"),
          onclick: () => { this.setPendingState(entry, "sending"); this.deliver(entry); } }));
      }
      status.append(el("button", { type: "button", class: "link", text: t("discard"), onclick: () => this.discard(entry) }));
    }

    discard(entry) {
      clearTimeout(entry.timer);
      entry.item.remove();
      if (entry.objectUrl) URL.revokeObjectURL(entry.objectUrl);
      this.pending.delete(entry.body.client_msg_id);
      this.refreshEmpty();
    }
  }

  // ------------------------------------------------------------------ composer
  /** Enter sends (not during IME composition), Shift+Enter is a new line; images by button or paste. */
  function bindComposer(form, getPane, hooks) {
    const input = form.querySelector("textarea");
    const file = form.querySelector("input[type=file]");
    const error = form.querySelector("[data-role=composer-error]");
    const autosize = () => {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight + 2, 160) + "px";
    };
    const showError = (text) => {
      if (!error) return;
      error.textContent = text || "";
      error.hidden = !text;
    };
    const submit = () => {
      const pane = getPane();
      const text = input.value.trim();
      if (!pane || !text) return;
      showError("");
      pane.sendText(text);
      input.value = "";
      autosize();
      input.focus();
      if (hooks && hooks.onSend) hooks.onSend(pane);
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        submit();
      }
    });
    input.addEventListener("input", autosize);
    input.addEventListener("paste", (event) => {
      const pane = getPane();
      const items = (event.clipboardData && event.clipboardData.files) || [];
      if (!pane || !items.length) return;
      const images = Array.from(items).filter((f) => f.type.startsWith("image/"));
      if (!images.length) return;
      event.preventDefault();
      images.forEach((f) => pane.sendImage(f));
    });
    if (file) {
      file.addEventListener("change", () => {
        const pane = getPane();
        if (pane) Array.from(file.files || []).forEach((f) => pane.sendImage(f));
        file.value = "";
      });
    }
    return {
      input,
      showError,
      insert(text) {
        input.focus();
        input.setRangeText(text, input.selectionStart, input.selectionEnd, "end");
        autosize();
      },
      setText(text) { input.value = text; autosize(); input.focus(); },
      setEnabled(enabled) {
        input.disabled = !enabled;
        form.querySelectorAll("button, input[type=file]").forEach((b) => { b.disabled = !enabled; });
      },
    };
  }

  function fitToViewport(node) {
    // The chat fills the screen under the sticky header (mobile first).
    const fit = () => {
      const header = document.querySelector("header.top");
      const top = node.getBoundingClientRect().top + window.scrollY;
      const offset = Math.max(top, header ? header.offsetHeight : 0);
      node.style.setProperty("--chat-top", offset + "px");
    };
    fit();
    window.addEventListener("resize", fit);
  }

  // ------------------------------------------------------------------ buyer chat page
  function initBuyerChat(root) {
    const realtime = new Realtime();
    const conversationId = BOOT.conversation_id;
    const side = BOOT.side || "buyer"; // "platform": read-only
    let pane = null;
    const nudgeBox = root.querySelector("[data-role=nudge]");
    const nudgeHint = root.querySelector("[data-role=nudge-hint]");
    const nudgeButton = root.querySelector("[data-role=nudge-button]");
    const resolvedNote = root.querySelector("[data-role=resolved]");
    const form = root.querySelector("form.chat-composer");
    const composer = form ? bindComposer(form, () => pane, {}) :
      { showError: (text) => { if (text) console.warn(text); }, setText: () => {} };
    showConnection(root.querySelector("[data-role=connection]"), realtime);
    fitToViewport(root);

    function refreshBanner() {
      if (resolvedNote) resolvedNote.hidden = !pane || pane.conv.status !== "resolved";
    }

    function updateNudge(now) {
      if (!pane || !nudgeBox) return;
      const conv = pane.conv;
      const at = parseTime(conv.nudge_available_at);
      if (conv.status !== "open" || at === null) {
        nudgeBox.hidden = true;
        return;
      }
      nudgeBox.hidden = false;
      if (now >= at) {
        nudgeHint.textContent = t("nudge_ready");
        nudgeButton.hidden = false;
      } else {
        nudgeHint.textContent = t("nudge_in", { time: formatDuration(at - now) });
        nudgeButton.hidden = true;
      }
    }

    async function refreshConversation() {
      const result = await api("GET", `/api/conversations/${conversationId}`);
      if (result.ok && pane) {
        pane.updateConversation(result.data);
        refreshBanner();
        updateNudge(serverNow());
      }
    }

    let refreshTimer = null;
    function refreshSoon() {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(refreshConversation, 600);
    }

    if (nudgeButton) {
      nudgeButton.addEventListener("click", async () => {
        nudgeButton.disabled = true;
        const result = await api("POST", `/api/conversations/${conversationId}/nudge`, { client_msg_id: uuid() });
        nudgeButton.disabled = false;
        if (result.ok) {
          pane.add(result.data);
          pane.conv.nudge_available_at = null;
          updateNudge(serverNow());
          refreshSoon();
        } else {
          composer.showError(errorOf(result).message);
          refreshSoon();
        }
      });
    }

    async function start() {
      const result = await api("GET", `/api/conversations/${conversationId}`);
      if (!result.ok) {
        composer.showError(errorOf(result).message);
        return;
      }
      pane = new ConversationPane(result.data, side, realtime, {
        onEdit: (text) => composer.setText(text),
        onError: (text) => composer.showError(text),
        onSent: () => refreshSoon(),
        onMessage: (message) => { if (message.sender_side !== "buyer") refreshSoon(); },
      });
      root.querySelector("[data-role=panes]").append(pane.scroller);
      realtime.track(conversationId, 0);
      refreshBanner();
      updateNudge(serverNow());
      tickers.add(updateNudge);
      await pane.loadLatest();
      realtime.on("message", (event) => { if (event.message.conversation_id === conversationId) pane.add(event.message); });
      realtime.on("read", (event) => { if (event.conversation_id === conversationId) pane.applyRead(event); });
      realtime.on("conversation", (event) => {
        if (event.conversation && event.conversation.id === conversationId) {
          pane.updateConversation(event.conversation);
          refreshBanner();
          updateNudge(serverNow());
        }
      });
      realtime.on("open", (info) => {
        pane.retryPending();
        if (info.reconnect) refreshConversation();
      });
      realtime.on("resync", () => { pane.catchUp(); refreshConversation(); });
      realtime.on("resumed", (event) => {
        // More was missed than the socket replays: page the rest over REST.
        if ((event.truncated || []).includes(conversationId)) pane.catchUp();
      });
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") pane.markReadSoon();
      });
      realtime.connect();
      if (BOOT.test_clock) setInterval(resyncTestClock, 15000);
    }

    start();
  }

  // ------------------------------------------------------------------ buyer's list
  function initChatList(root) {
    const realtime = new Realtime();
    const list = root.querySelector("[data-role=conversation-list]");
    showConnection(root.querySelector("[data-role=connection]"), realtime);
    for (const item of list.querySelectorAll("[data-conversation]")) {
      realtime.track(item.dataset.conversation, Number(item.dataset.lastSeq || 0));
      const time = item.querySelector("time[datetime]");
      if (time) time.textContent = formatTime(time.getAttribute("datetime"));
    }
    realtime.on("message", (event) => {
      const message = event.message;
      const item = list.querySelector(`[data-conversation="${Number(message.conversation_id)}"]`);
      if (!item) { location.reload(); return; }
      item.querySelector("[data-role=preview]").textContent = previewOf(message);
      item.querySelector("[data-role=time]").textContent = formatTime(message.created_at);
      if (message.sender_side !== "buyer") {
        const badge = item.querySelector("[data-role=unread]");
        badge.textContent = String(Number(badge.textContent || 0) + 1);
        badge.hidden = false;
      }
      list.prepend(item);
    });
    realtime.connect();
  }

  // ------------------------------------------------------------------ merchant workbench
  function initWorkbench(root) {
    const realtime = new Realtime();
    const state = {
      conversations: new Map(),
      panes: new Map(),
      selected: null,
      filter: "open",
      team: [],
      quickReplies: [],
      refreshTimers: new Map(),
    };
    const q = (role) => root.querySelector(`[data-role=${role}]`);
    const inbox = q("inbox");
    const inboxEmpty = q("inbox-empty");
    const panes = q("panes");
    const main = q("conversation");
    const placeholder = q("conversation-empty");
    const head = {
      name: q("conv-buyer"), status: q("conv-status"), agent: q("conv-agent"),
      transferSelect: q("transfer-agent"), transferButton: q("transfer-button"),
      resolveButton: q("resolve-button"), exportJson: q("export-json"), exportHtml: q("export-html"),
      message: q("conv-message"),
    };
    const context = q("context");
    const pendingBadge = q("pending-count");
    const queueCount = q("queue-count");
    const baseTitle = document.title;
    const composer = bindComposer(q("composer"), () => state.panes.get(state.selected), {
      onSend: () => {},
    });
    showConnection(q("connection"), realtime);
    fitToViewport(q("grid"));

    // ---- list
    // waiting_since: when the wait's clock started (the next opening, for a message sent after
    // hours); reply_due_at: until when a human reply is on time; wait_started_at: the message.
    function sortKey(conv) {
      const waiting = parseTime(conv.waiting_since);
      const last = parseTime(conv.last_message && conv.last_message.created_at) || 0;
      return waiting !== null && conv.status === "open" ? [0, waiting] : [1, -last];
    }

    // Owners see every conversation; an agent sees theirs and the store queue.
    function mine(conv) {
      return BOOT.is_owner || conv.assigned_agent_id === BOOT.me.id ||
        (conv.status === "open" && conv.assigned_agent_id === null) || conv.status === "resolved";
    }

    function ordered() {
      return Array.from(state.conversations.values())
        .filter((c) => c.id === state.selected || (mine(c) &&
          (state.filter === "resolved" ? c.status === "resolved" : c.status !== "resolved")))
        .sort((a, b) => {
          const ka = sortKey(a); const kb = sortKey(b);
          return ka[0] - kb[0] || ka[1] - kb[1] || b.id - a.id;
        });
    }

    const items = new Map();
    function inboxItem(conv) {
      let item = items.get(conv.id);
      if (!item) {
        item = el("li", { class: "wb-item", dataset: { conversation: String(conv.id) }, "data-testid": "inbox-item" },
          el("button", { type: "button", class: "wb-item-button", onclick: () => select(conv.id) },
            el("span", { class: "wb-item-top" },
              el("span", { class: "wb-item-name", "data-role": "name" }),
              el("span", { class: "badge red wb-unread", "data-role": "unread", hidden: true }),
              el("time", { class: "muted", "data-role": "time" })),
            el("span", { class: "wb-item-preview muted", "data-role": "preview" }),
            el("span", { class: "wb-item-tags" },
              el("span", { class: "wait-chip", "data-role": "wait", "data-testid": "wait-countdown", hidden: true }),
              el("span", { class: "badge amber", "data-role": "queued", hidden: true, text: t("queued") }),
              el("span", { class: "badge", "data-role": "agent", hidden: true }))));
        items.set(conv.id, item);
      }
      const role = (name) => item.querySelector(`[data-role=${name}]`);
      role("name").textContent = conv.buyer_name || t("buyer");
      role("preview").textContent = previewOf(conv.last_message) || "—";
      role("time").textContent = conv.last_message ? formatTime(conv.last_message.created_at) : "";
      const unread = role("unread");
      unread.hidden = !conv.unread_count || conv.id === state.selected;
      unread.textContent = String(conv.unread_count || 0);
      role("queued").hidden = !conv.queued;
      const agent = role("agent");
      agent.hidden = !(BOOT.is_owner && conv.assigned_agent_name);
      agent.textContent = conv.assigned_agent_name || "";
      item.classList.toggle("selected", conv.id === state.selected);
      item.classList.toggle("resolved", conv.status === "resolved");
      item.dataset.waitingSince = conv.status === "open" && conv.waiting_since ? String(parseTime(conv.waiting_since)) : "";
      updateWait(item, conv, serverNow());
      return item;
    }

    function updateWait(item, conv, now) {
      const chip = item.querySelector("[data-role=wait]");
      const clock = conv.status === "open" ? parseTime(conv.waiting_since) : null;
      chip.classList.remove("ok", "warn", "late", "later");
      if (clock === null) {
        chip.hidden = true;
        return;
      }
      chip.hidden = false;
      const target = (BOOT.reply_target_seconds || 300) * 1000;
      const warn = (BOOT.reply_warn_seconds || 180) * 1000;
      const due = parseTime(conv.reply_due_at) || clock + target;
      const left = due - now;
      const arrived = parseTime(conv.wait_started_at) || clock;
      chip.title = t("wait_title", { time: formatDuration(now - arrived) });
      if (clock - now > 5000) { // a wait sent after hours starts its clock at the opening
        chip.classList.add("later");
        chip.textContent = t("wait_starts", { time: formatTime(conv.waiting_since) });
      } else if (left >= 0) {
        chip.classList.add(target - left >= warn ? "warn" : "ok");
        chip.textContent = t("wait_left", { time: formatDuration(Math.min(left, target)) });
      } else {
        chip.classList.add("late");
        chip.textContent = t("wait_late", { time: formatDuration(-left) });
      }
    }

    function renderInbox() {
      const list = ordered();
      inbox.replaceChildren(...list.map(inboxItem));
      inboxEmpty.hidden = list.length > 0;
      renderCounts();
    }

    function renderCounts() {
      let pending = 0;
      let queued = 0;
      for (const conv of state.conversations.values()) {
        if (conv.status === "open" && conv.waiting_since && mine(conv)) pending += 1;
        if (conv.status === "open" && conv.queued) queued += 1;
      }
      pendingBadge.textContent = t("pending_replies", { n: pending });
      pendingBadge.classList.toggle("red", pending > 0);
      queueCount.textContent = t("queue_count", { n: queued });
      document.title = pending ? `(${pending}) ${baseTitle}` : baseTitle;
    }

    tickers.add((now) => {
      for (const [id, item] of items) {
        const conv = state.conversations.get(id);
        if (conv) updateWait(item, conv, now);
      }
    });

    function upsert(conversation) {
      const pane = state.panes.get(conversation.id);
      // The pane shares the conversation object: let it see the change before it is applied.
      if (pane) pane.updateConversation(conversation);
      const known = state.conversations.get(conversation.id);
      const conv = known ? Object.assign(known, conversation) : Object.assign({}, conversation);
      state.conversations.set(conv.id, conv);
      realtime.track(conv.id, conv.last_seq || 0);
      if (conv.id === state.selected) renderHead();
      return conv;
    }

    async function loadInbox() {
      const result = await api("GET", `/api/conversations?status=${state.filter}&limit=200`);
      if (!result.ok) return;
      const list = Array.isArray(result.data) ? result.data : result.data.conversations || [];
      for (const conv of list) upsert(conv);
      renderInbox();
    }

    async function refreshConversation(id) {
      const result = await api("GET", `/api/conversations/${id}`);
      if (result.ok) {
        upsert(result.data);
        renderInbox();
        return result.data;
      }
      if (result.status === 403 || result.status === 404) {
        // Transferred away or out of scope.
        state.conversations.delete(id);
        if (state.selected === id) deselect();
        renderInbox();
      }
      return null;
    }

    function refreshSoon(id) {
      clearTimeout(state.refreshTimers.get(id));
      state.refreshTimers.set(id, setTimeout(() => refreshConversation(id), 500));
    }

    // ---- selection
    function paneFor(conv) {
      let pane = state.panes.get(conv.id);
      if (!pane) {
        pane = new ConversationPane(conv, "store", realtime, {
          onEdit: (text) => composer.setText(text),
          onError: (text) => composer.showError(text),
          onRead: (c) => { const item = items.get(c.id); if (item) inboxItem(c); },
          onSent: (message) => {
            const c = state.conversations.get(message.conversation_id);
            if (c) { c.last_message = message; refreshSoon(c.id); renderInbox(); }
          },
        });
        state.panes.set(conv.id, pane);
        panes.append(pane.scroller);
        pane.loadLatest();
      }
      return pane;
    }

    function select(id) {
      const conv = state.conversations.get(id);
      if (!conv) return;
      state.selected = id;
      placeholder.hidden = true;
      main.hidden = false;
      root.classList.add("has-selection");
      for (const [otherId, pane] of state.panes) {
        pane.shown = otherId === id;
        pane.scroller.hidden = otherId !== id;
      }
      const pane = paneFor(conv);
      pane.shown = true;
      pane.scroller.hidden = false;
      pane.scrollToBottom();
      pane.markReadSoon();
      conv.unread_count = 0;
      renderHead();
      renderInbox();
      loadContext(id);
      composer.showError("");
      composer.input.focus();
      const url = new URL(location.href);
      url.searchParams.set("c", String(id));
      history.replaceState(null, "", url);
    }

    function deselect() {
      state.selected = null;
      main.hidden = true;
      placeholder.hidden = false;
      root.classList.remove("has-selection");
      context.replaceChildren();
    }

    function renderHead() {
      const conv = state.conversations.get(state.selected);
      if (!conv) return;
      head.name.textContent = conv.buyer_name || t("buyer");
      head.status.textContent = conv.status === "resolved" ? t("status_resolved") : (conv.queued ? t("queued") : t("status_open"));
      head.status.className = "badge " + (conv.status === "resolved" ? "green" : conv.queued ? "amber" : "");
      head.agent.textContent = conv.assigned_agent_name ? t("assigned_to", { name: conv.assigned_agent_name }) : t("unassigned");
      head.resolveButton.disabled = conv.status === "resolved";
      head.exportJson.setAttribute("href", `/api/conversations/${conv.id}/transcript?format=json`);
      head.exportHtml.setAttribute("href", `/api/conversations/${conv.id}/transcript?format=html`);
      renderTeam();
    }

    async function loadContext(id) {
      context.replaceChildren(el("p", { class: "muted", text: t("loading") }));
      let response;
      try {
        response = await fetch(`/workbench/conversations/${id}/context`, { credentials: "same-origin" });
      } catch (error) { return; }
      if (state.selected !== id) return;
      if (!response.ok) { context.replaceChildren(); return; }
      // Server-rendered fragment; every value in it was escaped by the template engine.
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      context.replaceChildren(...doc.body.childNodes);
    }

    // ---- team and transfer
    async function loadTeam() {
      const result = await api("GET", "/api/agents");
      if (result.ok && Array.isArray(result.data)) state.team = result.data;
      renderTeam();
    }

    function renderTeam() {
      const conv = state.conversations.get(state.selected);
      const select = head.transferSelect;
      const current = select.value;
      const labels = { online: t("agent_online"), away: t("agent_away"), offline: t("agent_offline") };
      const options = state.team
        .filter((agent) => agent.user_id !== (conv && conv.assigned_agent_id))
        .map((agent) => el("option", {
          value: String(agent.user_id),
          // Only online agents can take a conversation.
          disabled: agent.status !== "online",
          text: t("agent_option", { name: agent.name + (agent.user_id === BOOT.me.id ? t("me_suffix") : ""),
            status: labels[agent.status] || agent.status, load: agent.load, capacity: agent.capacity }),
        }));
      select.replaceChildren(el("option", { value: "", text: t("transfer_to") }), ...options);
      if (current && options.some((o) => o.value === current && !o.disabled)) select.value = current;
      const open = !!conv && conv.status === "open";
      head.transferButton.disabled = !open || !options.some((o) => !o.disabled);
      select.disabled = !open;
    }

    // Agents do not hear others' status changes: refresh the list when it is opened.
    head.transferSelect.addEventListener("focus", loadTeam);
    head.transferButton.addEventListener("click", async () => {
      const agentId = Number(head.transferSelect.value);
      const id = state.selected;
      if (!agentId || !id) { head.transferSelect.focus(); return; }
      head.transferButton.disabled = true;
      const result = await api("POST", `/api/conversations/${id}/transfer`, { agent_id: agentId });
      head.transferButton.disabled = false;
      if (!result.ok) { composer.showError(errorOf(result).message); return; }
      upsert(result.data);
      head.transferSelect.value = "";
      flash(t("transferred", { name: result.data.assigned_agent_name || "" }));
      renderInbox();
      if (!BOOT.is_owner && result.data.assigned_agent_id !== BOOT.me.id) refreshSoon(id);
    });

    head.resolveButton.addEventListener("click", async () => {
      const id = state.selected;
      if (!id) return;
      head.resolveButton.disabled = true;
      const result = await api("POST", `/api/conversations/${id}/resolve`);
      if (!result.ok) {
        head.resolveButton.disabled = false;
        composer.showError(errorOf(result).message);
        return;
      }
      upsert(result.data);
      flash(t("resolved_done"));
      renderInbox();
    });

    let flashTimer = null;
    function flash(text) {
      head.message.textContent = text;
      head.message.hidden = false;
      clearTimeout(flashTimer);
      flashTimer = setTimeout(() => { head.message.hidden = true; }, 4000);
    }

    // ---- quick replies
    const quickBar = q("quick-replies");
    const quickManage = q("quick-manage-list");
    const quickForm = q("quick-form");

    async function loadQuickReplies() {
      const result = await api("GET", "/api/quick-replies");
      if (result.ok) state.quickReplies = Array.isArray(result.data) ? result.data : result.data.quick_replies || [];
      renderQuickReplies();
    }

    function renderQuickReplies() {
      quickBar.replaceChildren(...state.quickReplies.map((reply) =>
        el("button", { type: "button", class: "quick-chip" + (reply.scope === "store" ? " store" : ""), title: reply.text,
          "data-testid": "quick-reply", onclick: () => composer.insert(reply.text) }, reply.text)));
      if (!state.quickReplies.length) quickBar.append(el("span", { class: "muted", text: t("no_quick_replies") }));
      quickManage.replaceChildren(...state.quickReplies.map((reply) =>
        el("li", null,
          el("span", { class: "badge" + (reply.scope === "store" ? " amber" : ""), text: reply.scope === "store" ? t("scope_store") : t("scope_personal") }),
          el("span", { class: "quick-text", text: reply.text }),
          reply.can_delete === false ? null : el("button", { type: "button", class: "link", text: t("delete"),
            onclick: async () => {
              const result = await api("DELETE", `/api/quick-replies/${reply.id}`);
              if (result.ok || result.status === 404) loadQuickReplies();
              else composer.showError(errorOf(result).message);
            } }))));
    }

    quickForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = quickForm.elements.text.value.trim();
      if (!text) return;
      const result = await api("POST", "/api/quick-replies", { text, scope: quickForm.elements.scope.value });
      if (!result.ok) { composer.showError(errorOf(result).message); return; }
      quickForm.elements.text.value = "";
      loadQuickReplies();
    });

    // ---- agent status
    const statusSelect = q("agent-status");
    const capacityInput = q("capacity");
    async function saveStatus() {
      const body = { status: statusSelect.value };
      const capacity = Number(capacityInput.value);
      if (capacity > 0) body.capacity = capacity;
      const result = await api("POST", "/api/agents/me/status", body);
      if (!result.ok) { composer.showError(errorOf(result).message); return; }
      if (result.data) {
        applyStatus(result.data);
        const index = state.team.findIndex((a) => a.user_id === result.data.user_id);
        if (index >= 0) state.team[index] = result.data;
        renderTeam();
      }
      loadInbox();
    }
    function applyStatus(data) {
      if (data.status) statusSelect.value = data.status;
      if (data.capacity) capacityInput.value = String(data.capacity);
      statusSelect.dataset.status = statusSelect.value;
    }
    statusSelect.addEventListener("change", saveStatus);
    capacityInput.addEventListener("change", saveStatus);
    async function loadStatus() {
      const result = await api("GET", "/api/agents/me/status");
      if (result.ok && result.data) applyStatus(result.data);
      else statusSelect.dataset.status = statusSelect.value;
    }

    // ---- alerts
    const alertButton = q("enable-alerts");
    const soundToggle = q("sound");
    function renderAlertButton() {
      const permission = "Notification" in window ? Notification.permission : "unsupported";
      alertButton.hidden = permission === "granted" || permission === "unsupported";
      soundToggle.checked = Alerts.soundOn;
    }
    alertButton.addEventListener("click", async () => {
      await Alerts.askPermission();
      renderAlertButton();
    });
    soundToggle.addEventListener("change", () => {
      Alerts.soundOn = soundToggle.checked;
      localStorage.setItem("kefu.sound", Alerts.soundOn ? "on" : "off");
      Alerts.unlock();
    });
    // Browsers start audio only after a gesture: any click on the workbench will do.
    root.addEventListener("click", () => Alerts.unlock(), { once: true });

    // ---- filter tabs
    for (const tab of root.querySelectorAll("[data-filter]")) {
      tab.addEventListener("click", () => {
        state.filter = tab.dataset.filter;
        root.querySelectorAll("[data-filter]").forEach((other) => other.setAttribute("aria-pressed", String(other === tab)));
        renderInbox();
        loadInbox();
      });
    }

    // ---- search
    const searchForm = q("search-form");
    const searchBox = q("search-results");
    const searchList = q("search-list");
    searchForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = searchForm.elements.q.value.trim();
      if (!text) { searchBox.hidden = true; return; }
      const result = await api("GET", `/api/chat/search?q=${encodeURIComponent(text)}`);
      searchBox.hidden = false;
      if (!result.ok) { searchList.replaceChildren(el("li", { class: "muted", text: errorOf(result).message })); return; }
      const hits = Array.isArray(result.data) ? result.data : result.data.messages || result.data.results || [];
      q("search-count").textContent = t("search_count", { n: hits.length });
      searchList.replaceChildren(...hits.map((hit) => {
        const message = hit.message || hit;
        const conversationId = message.conversation_id;
        const who = hit.buyer_name || (state.conversations.get(conversationId) || {}).buyer_name || "";
        return el("li", null, el("button", { type: "button", class: "search-hit",
          onclick: async () => {
            if (!state.conversations.has(conversationId)) await refreshConversation(conversationId);
            if (!state.conversations.has(conversationId)) return;
            select(conversationId);
            state.panes.get(conversationId).reveal(message.seq);
          } },
        el("span", { class: "muted", text: [who, message.sender_name, formatTime(message.created_at)].filter(Boolean).join(" · ") }),
        highlight(message.text || previewOf(message), text)));
      }));
      if (!hits.length) searchList.append(el("li", { class: "muted", text: t("search_none") }));
    });
    q("search-close").addEventListener("click", () => { searchBox.hidden = true; });

    function highlight(text, needle) {
      const span = el("span", { class: "search-text" });
      const lower = text.toLowerCase();
      const target = needle.toLowerCase();
      let from = 0;
      let index = lower.indexOf(target);
      while (index !== -1 && target) {
        span.append(text.slice(from, index), el("mark", { text: text.slice(index, index + needle.length) }));
        from = index + needle.length;
        index = lower.indexOf(target, from);
      }
      span.append(text.slice(from));
      return span;
    }

    // ---- realtime
    realtime.on("message", (event) => {
      const message = event.message;
      const id = message.conversation_id;
      const conv = state.conversations.get(id);
      if (!conv) {
        refreshConversation(id).then((fresh) => { if (fresh) announce(fresh, message); });
        return;
      }
      conv.last_message = message;
      if (message.seq > (conv.last_seq || 0)) conv.last_seq = message.seq;
      const pane = state.panes.get(id);
      if (pane) pane.add(message);
      const viewing = state.selected === id && document.visibilityState === "visible";
      if (message.sender_side === "buyer") {
        if (!viewing) conv.unread_count = (conv.unread_count || 0) + 1;
        announce(conv, message);
      }
      // Waits open with a buyer message and close with a human reply: the server has the truth.
      refreshSoon(id);
      renderInbox();
    });

    function announce(conv, message) {
      if (message.sender_side !== "buyer") return;
      if (state.selected === conv.id && document.visibilityState === "visible" && document.hasFocus()) return;
      Alerts.notify(t("notify_title", { name: conv.buyer_name || t("buyer") }), previewOf(message),
        `kefu-conversation-${conv.id}`, () => select(conv.id));
    }

    realtime.on("conversation", (event) => {
      if (!event.conversation) return;
      const isNew = !state.conversations.has(event.conversation.id);
      upsert(event.conversation);
      renderInbox();
      if (isNew && event.conversation.last_message) announce(event.conversation, event.conversation.last_message);
    });

    realtime.on("read", (event) => {
      const conv = state.conversations.get(event.conversation_id);
      if (!conv) return;
      const pane = state.panes.get(event.conversation_id);
      if (pane) pane.applyRead(event);
      else conv[event.side === "buyer" ? "buyer_read_seq" : "store_read_seq"] = event.seq;
      if (event.side === "store" && state.selected !== conv.id) refreshSoon(conv.id);
    });

    realtime.on("open", (info) => {
      for (const pane of state.panes.values()) pane.retryPending();
      if (info.reconnect) loadInbox();
    });
    realtime.on("resync", () => {
      // The server dropped events for this client: take the truth from the database.
      loadInbox();
      for (const pane of state.panes.values()) pane.catchUp();
    });
    realtime.on("resumed", (event) => {
      for (const id of event.truncated || []) {
        const pane = state.panes.get(id);
        if (pane) pane.catchUp();
      }
    });
    realtime.on("agent", (event) => {
      // An owner hears every agent's status: keep the transfer list current.
      const agent = event.agent;
      if (!agent) return;
      const index = state.team.findIndex((a) => a.user_id === agent.user_id);
      if (index >= 0) state.team[index] = agent; else state.team.push(agent);
      renderTeam();
    });

    document.addEventListener("visibilitychange", () => {
      const pane = state.panes.get(state.selected);
      if (document.visibilityState === "visible" && pane) pane.markReadSoon();
    });

    // ---- start
    renderAlertButton();
    (async () => {
      await Promise.all([loadInbox(), loadTeam(), loadQuickReplies(), loadStatus()]);
      const wanted = Number(new URL(location.href).searchParams.get("c"));
      if (wanted) {
        if (!state.conversations.has(wanted)) await refreshConversation(wanted);
        if (state.conversations.has(wanted)) select(wanted);
      }
      realtime.connect();
    })();
    if (BOOT.test_clock) setInterval(resyncTestClock, 15000);
    q("back-to-inbox").addEventListener("click", deselect);
  }

  // ------------------------------------------------------------------ boot
  function start() {
    const page = document.querySelector("[data-chat-page]");
    if (!page) return;
    const kind = page.dataset.chatPage;
    if (kind === "conversation") initBuyerChat(page);
    else if (kind === "list") initChatList(page);
    else if (kind === "workbench") initWorkbench(page);
  }

  window.kefuChat = { t, api, uuid, parseTime, formatDuration, Realtime, ConversationPane,
    resyncClock: resyncTestClock };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
