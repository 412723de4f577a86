"use strict";
// Draws the state `ivr web` pushes over server-sent events (/events), about once a second. No library: the
// wall screen may have no internet. Every word comes from the strings table; data goes in with textContent only.
(function () {
  const TABLE = JSON.parse(document.getElementById("strings").textContent);
  const MODES = ["absorbed", "dual-transfer", "dual-merged", "main"];
  const COLOURS = {
    absorbed: "#40c4ff", "dual-transfer": "#ffab00", "dual-merged": "#e040fb", main: "#00e676", unknown: "#bdbdbd",
  };
  const SILENT_SECONDS = 5; // no push for this long: the server or the network is gone, the figures are old
  const params = new URLSearchParams(location.search);
  let lang = TABLE.lang;
  let state = null;
  let lastPush = Date.now();

  function t(key, values) {
    let text = TABLE.strings[lang][key] ?? key;
    for (const [name, value] of Object.entries(values || {})) text = text.replace("{" + name + "}", value);
    return text;
  }

  function withToken(path) {
    const token = params.get("token");
    return token ? path + "?token=" + encodeURIComponent(token) : path;
  }

  function seconds(value) {
    if (value === null || value === undefined) return "—";
    const s = Math.round(value);
    return s < 60 ? s + " " + t("seconds") : Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : Math.round(value * 100) + "%";
  }

  function cell(row, text, field, extra) {
    const td = document.createElement("td");
    td.textContent = text;
    if (field) td.dataset.field = field;
    if (extra) td.className = extra;
    row.appendChild(td);
    return td;
  }

  function fill(id, rows, empty, columns) {
    const body = document.querySelector("#" + id + " tbody");
    body.replaceChildren(...rows);
    if (!rows.length) {
      const row = document.createElement("tr");
      const td = cell(row, empty, null, "empty");
      td.colSpan = columns;
      body.appendChild(row);
    }
  }

  function words() {
    document.documentElement.lang = t("html_lang");
    document.title = t("title");
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
    document.getElementById("switch").textContent = t("switch");
  }

  function alertText() {
    const silent = (Date.now() - lastPush) / 1000;
    if (silent > SILENT_SECONDS) return t("alert.offline", { age: Math.round(silent) });
    if (!state || !state.alert.kind) return "";
    const a = state.alert;
    return t("alert." + a.kind, { age: a.age === null ? "" : Math.round(a.age), why: a.why });
  }

  function showAlert() {
    const text = alertText();
    const box = document.getElementById("alert");
    box.hidden = !text;
    box.textContent = text;
    document.body.classList.toggle("stale", Boolean(text));
    const pill = document.getElementById("live");
    pill.textContent = text ? t("not_live") : t("live");
    pill.classList.toggle("down", Boolean(text));
  }

  function showLinks() {
    const box = document.getElementById("links");
    const failing = state ? state.failing_links || [] : [];
    box.replaceChildren(
      ...failing.map((l) => {
        const line = document.createElement("div");
        line.dataset.link = l.link;
        const name = lang === "zh" ? l.name_zh : l.name_en;
        const age = l.pending ? t("alert.link_age", { age: l.oldest_age }) : "";
        line.textContent = t("alert.link", { name, failed: l.failed, pending: l.pending }) + age;
        return line;
      }),
    );
    box.hidden = failing.length === 0;
  }

  function queues(list) {
    return list.map((q) => {
      const row = document.createElement("tr");
      row.dataset.queue = q.queue;
      const title = lang === "zh" ? q.name_zh : q.name_en;
      const name = cell(row, title, "name");
      if (title !== q.queue) {
        const sub = document.createElement("span");
        sub.className = "sub";
        sub.textContent = q.queue;
        name.appendChild(sub);
      }
      const live = (value) => (q.live ? value : "—");
      cell(row, live(q.waiting), "waiting", "live-only");
      cell(row, live(seconds(q.longest_wait)), "longest_wait", "live-only");
      for (const s of ["free", "busy", "paused", "unavailable"]) cell(row, live(q.staff[s]), s, "live-only");
      cell(row, q.answered, "answered");
      cell(row, q.abandoned, "abandoned", q.abandoned ? "bad" : "");
      cell(row, percent(q.service_level), "service_level");
      cell(row, percent(q.connection_rate), "connection_rate");
      return row;
    });
  }

  function lines(list) {
    return list.map((f) => {
      const row = document.createElement("tr");
      row.dataset.line = f.line;
      cell(row, f.line, "line");
      cell(row, lang === "zh" ? f.name_zh : f.name_en, "name", "name");
      cell(row, f.calls, "calls");
      cell(row, f.answered, "answered");
      cell(row, f.abandoned, "abandoned", f.abandoned ? "bad" : "");
      return row;
    });
  }

  function stubs(list) {
    return list.map((s) => {
      const row = document.createElement("tr");
      row.dataset.ticket = s.id;
      cell(row, s.time, "time");
      cell(row, s.id, "id");
      cell(row, s.line, "line");
      cell(row, callerText(s.caller), "caller");
      cell(row, t("outcome." + s.outcome), "outcome", s.outcome === "abandoned" ? "bad" : "");
      cell(row, s.queue || "—", "queue");
      cell(row, seconds(s.queue_wait), "queue_wait");
      cell(row, s.answered_by || "—", "answered_by");
      return row;
    });
  }

  function callerText(caller) {
    return caller === "withheld" || caller === "unknown" ? t("caller." + caller) : caller;
  }

  function queueName(name) {
    const q = state.queues.find((found) => found.queue === name);
    return q ? (lang === "zh" ? q.name_zh : q.name_en) : name;
  }

  function ratings(list, named) {
    return list.map((r) => {
      const row = document.createElement("tr");
      row.dataset.key = r.key;
      cell(row, r.key, "key");
      if (named) cell(row, lang === "zh" ? r.name_zh : r.name_en, "name", "name");
      cell(row, r.asked, "asked");
      cell(row, r.satisfied, "satisfied");
      cell(row, r.basically_satisfied, "basically_satisfied");
      cell(row, r.dissatisfied, "dissatisfied", r.dissatisfied ? "bad" : "");
      cell(row, r.not_rated, "not_rated");
      cell(row, percent(r.satisfaction), "satisfaction");
      return row;
    });
  }

  function callbacks(list) {
    return list.map((c) => {
      const row = document.createElement("tr");
      row.dataset.ticket = c.id;
      cell(row, c.received, "received");
      cell(row, c.id, "id");
      cell(row, c.line, "line");
      cell(row, callerText(c.caller), "caller");
      cell(row, t("outcome." + c.gave_up) + (c.queue ? " · " + queueName(c.queue) : ""), "gave_up");
      cell(row, seconds(c.queue_wait), "queue_wait");
      cell(row, c.attempts, "attempts");
      const until = c.next_at ? " · " + t("until", { time: c.next_at }) : "";
      cell(row, t("callback." + c.state) + until, "state", c.state === "due" ? "bad" : "");
      return row;
    });
  }

  function callbackCounts(found) {
    document.getElementById("callback-counts").replaceChildren(...Object.entries(found ? found.counts : {}).map(
      ([name, count]) => {
        const item = document.createElement("span");
        item.className = "count" + (name === "due" && count ? " bad" : "");
        item.dataset.state = name;
        const figure = document.createElement("b");
        figure.textContent = count;
        item.append(t("callback." + name) + " ", figure);
        return item;
      },
    ));
  }

  function more(id, count) {
    const note = document.getElementById(id);
    note.hidden = !count;
    note.textContent = count ? t("more", { n: count }) : "";
  }

  function svg(name, attributes, text) {
    const el = document.createElementNS("http://www.w3.org/2000/svg", name);
    for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function chart(hours, hourNow) {
    const modes = MODES.concat(Object.keys(hours).filter((m) => !MODES.includes(m)));
    const totals = Array.from({ length: 24 }, (_, h) => modes.reduce((sum, m) => sum + hours[m][h], 0));
    const top = Math.max(4, ...totals);
    const step = Math.max(1, Math.ceil(top / 4));
    const ceiling = step * 4;
    const left = 40, bottom = 210, height = 190, width = 670, band = width / 24;
    const parts = [];
    for (let k = 0; k <= 4; k++) {
      const y = bottom - (height * k * step) / ceiling;
      parts.push(svg("line", { x1: left, x2: left + width, y1: y, y2: y, stroke: "#333" }));
      parts.push(svg("text", { x: left - 6, y: y + 5, "text-anchor": "end" }, String(k * step)));
    }
    for (let h = 0; h < 24; h++) {
      const group = svg("g", { "data-hour": h, "data-total": totals[h] });
      let y = bottom;
      for (const m of modes) {
        const n = hours[m][h];
        if (!n) continue;
        const tall = (height * n) / ceiling;
        y -= tall;
        const bar = svg("rect", {
          x: left + h * band + 3, y: y, width: band - 6, height: tall, fill: COLOURS[m] || COLOURS.unknown,
          "data-mode": m, "data-count": n,
        });
        bar.appendChild(svg("title", {}, t("mode." + m) + " " + h + t("hour") + ": " + n));
        group.appendChild(bar);
      }
      if (h % 3 === 0 || h === hourNow) {
        group.appendChild(svg("text", {
          x: left + h * band + band / 2, y: bottom + 20, "text-anchor": "middle", class: h === hourNow ? "now" : "",
        }, String(h)));
      }
      parts.push(group);
    }
    document.getElementById("chart").replaceChildren(...parts);
    document.getElementById("legend").replaceChildren(...modes.filter((m) => COLOURS[m] || hours[m]).map((m) => {
      const item = document.createElement("span");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = COLOURS[m] || COLOURS.unknown;
      item.append(swatch, t("mode." + m) + " " + hours[m].reduce((a, b) => a + b, 0));
      return item;
    }));
  }

  function draw() {
    words();
    showAlert();
    if (!state) return;
    document.getElementById("clock").textContent = state.clock;
    const total = state.total || { offered: 0, answered: 0, abandoned: 0, connection_rate: null };
    document.getElementById("kpi-calls").textContent = total.offered;
    document.getElementById("kpi-answered").textContent = total.answered;
    document.getElementById("kpi-abandoned").textContent = total.abandoned;
    document.getElementById("kpi-rate").textContent = percent(total.connection_rate);
    const live = state.queues.filter((q) => q.live);
    document.getElementById("kpi-waiting").textContent = live.reduce((sum, q) => sum + q.waiting, 0);
    document.getElementById("kpi-longest").textContent = seconds(Math.max(0, ...live.map((q) => q.longest_wait)));
    const due = state.callbacks ? state.callbacks.counts.due : null;
    document.getElementById("kpi-callbacks").textContent = due ?? "—";
    document.getElementById("kpi-callbacks").classList.toggle("bad", Boolean(due));
    fill("queues", queues(state.queues), "—", 11);
    fill("lines", lines(state.lines), t("no_calls"), 5);
    fill("ratings-lines", ratings(state.ratings.lines, true), t("no_ratings"), 8);
    fill("ratings-agents", ratings(state.ratings.agents, false), t("no_ratings"), 7);
    more("ratings-agents-more", state.ratings.more_agents);
    callbackCounts(state.callbacks);
    fill("callbacks", callbacks(state.callbacks ? state.callbacks.open : []), t("no_callbacks"), 8);
    more("callbacks-more", state.callbacks ? state.callbacks.more : 0);
    fill("stubs", stubs(state.stubs), t("no_calls"), 8);
    chart(state.hours, state.hour_now);
    showLinks();
  }

  document.getElementById("switch").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    params.set("lang", lang);
    history.replaceState(null, "", "?" + params.toString());
    draw();
  });

  const events = new EventSource(withToken("/events"));
  events.onmessage = (message) => {
    state = JSON.parse(message.data);
    lastPush = Date.now();
    draw();
  };
  setInterval(showAlert, 1000);
  draw();
})();
