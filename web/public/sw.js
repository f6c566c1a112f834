// Generated from web/sw/sw.ts by web/scripts/build-sw.ts: edit those, then run `npm run build:sw -w web`.
"use strict";
(() => {
  var HIDDEN_TITLE = "New message";
  var ICON_URL = "/icon-192.png";
  var BADGE_URL = "/badge-96.png";
  var MAX_TITLE = 120;
  var MAX_BODY = 240;
  function str(v, max) {
    if (typeof v !== "string") return null;
    const s = v.replace(/\s+/g, " ").trim();
    if (!s) return null;
    return s.length > max ? `${s.slice(0, max - 1)}…` : s;
  }
  function parsePushPayload(text) {
    let raw = null;
    try {
      raw = text ? JSON.parse(text) : null;
    } catch {
      raw = null;
    }
    const o = typeof raw === "object" && raw !== null ? raw : {};
    const conversationId = str(o.conversationId, 200);
    const hidden = o.hidden === true || conversationId === null;
    return {
      conversationId,
      title: hidden ? null : str(o.conversationTitle, MAX_TITLE),
      sender: hidden ? null : str(o.senderName, MAX_TITLE),
      snippet: hidden ? null : str(o.snippet, MAX_BODY),
      mention: !hidden && o.mention === true,
      hidden
    };
  }
  function conversationPath(conversationId) {
    return conversationId ? `/chat?c=${encodeURIComponent(conversationId)}` : "/chat";
  }
  function notificationFor(p) {
    const data = {
      conversationId: p.conversationId,
      path: conversationPath(p.conversationId)
    };
    const base = {
      icon: ICON_URL,
      badge: BADGE_URL,
      tag: p.conversationId ? `conversation:${p.conversationId}` : "chat",
      renotify: true,
      data
    };
    if (p.hidden) return { title: HIDDEN_TITLE, options: { ...base, body: "" } };
    const title = p.title ?? p.sender ?? HIDDEN_TITLE;
    const who = p.mention ? `${p.sender ?? "Someone"} mentioned you` : p.sender !== title ? p.sender : null;
    const body = who && p.snippet ? `${who}: ${p.snippet}` : p.snippet ?? who ?? "";
    return { title, options: { ...base, body } };
  }
  function parse(url) {
    try {
      return new URL(url);
    } catch {
      return null;
    }
  }
  function planClick(clients, origin, data) {
    const conversationId = typeof data?.conversationId === "string" ? data.conversationId : null;
    const path = conversationPath(conversationId);
    const chats = clients.filter((c) => {
      const u = parse(c.url);
      return u !== null && u.origin === origin && /^\/chat\/?$/.test(u.pathname);
    });
    const rank = (c) => c.focused ? 0 : c.visibilityState === "visible" ? 1 : 2;
    const ordered = [...chats].sort((a, b) => rank(a) - rank(b));
    const onIt = ordered.find((c) => (parse(c.url)?.searchParams.get("c") ?? null) === conversationId);
    if (onIt) return { kind: "focus", client: onIt };
    const any = ordered[0];
    if (any && !conversationId) return { kind: "focus", client: any };
    if (any && conversationId)
      return { kind: "route", client: any, message: { type: "chat:open-conversation", conversationId } };
    return { kind: "open", url: new URL(path, origin).href };
  }
  async function handleNotificationClick(env, data) {
    const plan = planClick(await env.matchAll(), env.origin, data);
    switch (plan.kind) {
      case "focus":
        await plan.client.focus();
        break;
      case "route":
        plan.client.postMessage(plan.message);
        await plan.client.focus();
        break;
      case "open":
        await env.openWindow(plan.url);
        break;
    }
    return plan;
  }
  var sw = self;
  sw.addEventListener("install", (e) => {
    e.waitUntil(sw.skipWaiting());
  });
  sw.addEventListener("activate", (e) => {
    e.waitUntil(sw.clients.claim());
  });
  sw.addEventListener("push", (e) => {
    let text = null;
    try {
      text = e.data?.text() ?? null;
    } catch {
      text = null;
    }
    const { title, options } = notificationFor(parsePushPayload(text));
    e.waitUntil(sw.registration.showNotification(title, options));
  });
  sw.addEventListener("notificationclick", (e) => {
    e.notification.close();
    e.waitUntil(
      handleNotificationClick(
        {
          origin: sw.location.origin,
          matchAll: () => sw.clients.matchAll({ type: "window", includeUncontrolled: true }),
          openWindow: (url) => sw.clients.openWindow(url)
        },
        e.notification.data
      )
    );
  });
})();
