/* wcsync dashboard: plain JavaScript over the /api endpoints, signed in by the HttpOnly cookie.
 * Every value from the API is put into the page as text (textContent), never as HTML. */
(() => {
  "use strict";

  const PENDING_POLL_MS = 3000;
  const RUN_POLL_MS = 500;
  const FINISHED = new Set(["succeeded", "partial", "failed"]);
  const VIEWS = ["overview", "failed", "lookup", "stores", "runs"];

  const $ = (selector, root = document) => root.querySelector(selector);

  /* --- DOM helpers ------------------------------------------------------------------------ */

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function setText(el, text) {
    // Only touch the DOM on a change, so aria-live regions announce changes, not every poll.
    if (el.textContent !== text) el.textContent = text;
  }

  /** Times come from the API as ISO UTC; show them in the browser's time zone. */
  function parseTime(iso) {
    if (!iso) return null;
    const withZone = /(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : `${iso}Z`;
    const date = new Date(withZone);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function timeEl(iso, empty = "—") {
    const date = parseTime(iso);
    if (!date) return document.createTextNode(empty);
    return h("time", { datetime: date.toISOString(), title: date.toISOString() }, date.toLocaleString());
  }

  function stateEl(state, label) {
    return h("span", { class: `state state-${state}` }, label || state.replace("_", " "));
  }

  function orderRef(ref) {
    return ref.order_id ? `${ref.store} #${ref.order_id}` : `${ref.store} (no copy yet)`;
  }

  /** The admin screen of an order on its store, opened in a new tab; null without a URL. */
  function adminLink(url, label, name) {
    if (!url) return null;
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "admin-link", "aria-label": name || null }, label);
  }

  function money(total, currency) {
    if (total === null || total === undefined) return null;
    const value = Number(total);
    if (currency && Number.isFinite(value)) {
      try {
        return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
      } catch (err) {
        // An unknown code: shown as the store wrote it.
      }
    }
    return currency ? `${total} ${currency}` : String(total);
  }

  function dateEl(iso) {
    const date = parseTime(iso);
    if (!date) return null;
    return h("time", { datetime: date.toISOString(), title: date.toLocaleString() }, date.toLocaleDateString());
  }

  /** An order as a row shows it: its reference (a button when it opens the history), then
   * customer, total, date placed and status, and a link to its screen in WooCommerce. */
  function orderCell(ref, summary, onOpen, withRef = true) {
    const label = orderRef(ref);
    const parts = [];
    if (withRef) {
      parts.push(onOpen
        ? h("button", { type: "button", class: "link order-ref", title: "Show this order's sync history", onclick: onOpen }, label)
        : h("strong", { class: "order-ref" }, label));
    }
    if (summary) {
      const facts = [summary.customer || "No name", money(summary.total, summary.currency), dateEl(summary.created_at)]
        .filter((x) => x !== null && x !== undefined && x !== "");
      const line = h("span", { class: "order-facts" });
      facts.forEach((fact, i) => line.append(...(i ? [" · ", fact] : [fact])));
      line.append(" ", stateEl(summary.status));
      parts.push(line);
    }
    const link = adminLink(ref.admin_url, "Open in WooCommerce");
    if (link) parts.push(link);
    return h("div", { class: "order-cell" }, parts);
  }

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many || `${one}s`}`;
  }

  const DIRECTIONS = { main_to_sub: "Main → sub-stores", sub_to_main: "Sub-stores → main", both: "Both directions" };

  /* --- the API ---------------------------------------------------------------------------- */

  class ApiError extends Error {
    constructor(code, message, status, error) {
      super(message);
      this.code = code;
      this.status = status;
      this.error = error || {};
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json", "X-Requested-With": "wcsync" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      throw new ApiError("network", "wcsync did not answer. Is the service running?", 0);
    }
    if (response.status === 401) {
      sessionEnded();
      throw new ApiError("not_authenticated", "Your session has ended; sign in again.", 401);
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(error.code || `http_${response.status}`,
        error.message || `wcsync answered ${response.status}.`, response.status, error);
    }
    return data;
  }

  let ending = false;
  function sessionEnded() {
    if (ending) return;
    ending = true;
    showError("Your session has ended. Taking you to the sign-in page…");
    window.setTimeout(() => window.location.assign("/admin"), 1200);
  }

  function showError(message) {
    const box = $("#global-error");
    box.textContent = message;
    box.hidden = !message;
  }

  /* --- plain words for link errors ------------------------------------------------------ */

  const REASONS = {
    unknown_sku: "A product is missing on the target store",
    missing_sku: "A product has no SKU on the origin store",
    invalid_order: "The order's data is incomplete",
    mapping_error: "The order could not be prepared for the target store",
    order_rejected: "The target store refused the order",
    not_confirmed: "The target store did not confirm the order",
    woocommerce_rest_authentication_error: "The store refused wcsync's API key",
    woocommerce_rest_cannot_create: "wcsync's API key may not create orders there",
    rest_no_route: "The store's REST API is not reachable",
  };

  function reasonFor(link, named = false) {
    const detail = link.last_error || "";
    let title = REASONS[link.last_error_code];
    if (!title) {
      if (/\b(401|403)\b|credential|authenticat/i.test(detail)) title = "The store refused wcsync's API key";
      else if (/\b(5\d\d|429)\b|timed? ?out|unreachable|connect|down/i.test(detail)) {
        title = "The store could not be reached";
      } else if (/sku/i.test(detail)) title = "A product could not be matched by SKU";
      else title = detail ? "The order could not be copied" : "No reason was recorded";
    }
    return h("div", { class: "reason", "data-target": link.target.store },
      h("strong", {}, named ? `${link.target.store}: ${title}` : title), detail ? h("span", {}, detail) : null);
  }

  /* --- views ------------------------------------------------------------------------------ */

  const loaders = {
    overview: () => Promise.all([refreshPending(), loadRecentRuns()]),
    failed: () => loadFailed(),
    lookup: () => loadStores(),
    stores: () => Promise.all([loadStores(), loadTokens()]),
    runs: () => loadRuns(),
  };

  function currentView() {
    const name = window.location.hash.replace("#", "");
    return VIEWS.includes(name) ? name : "overview";
  }

  function showView(moveFocus) {
    const name = currentView();
    for (const view of VIEWS) {
      $(`#view-${view}`).hidden = view !== name;
      const tab = $(`.tabs a[data-view="${view}"]`);
      if (view === name) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    }
    if (moveFocus) {
      const heading = $(`#view-${name} h1`);
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
    loaders[name]().catch((err) => showError(err.message));
  }

  /* --- pending badge ---------------------------------------------------------------------- */

  let lastFailed = null;

  async function refreshPending() {
    const pending = await api("GET", "/api/pending");
    // Orders, each counted once however many stores it waits for; copies are the detail.
    const orders = pending.orders ?? pending.total;
    const copies = pending.copies ?? orders;
    setText($("#pending-total"), String(orders));
    $("#badge-pending").dataset.count = String(orders);
    $("#badge-pending").setAttribute("aria-label", `${plural(orders, "order")} waiting to sync`);
    setText($("#failed-total"), String(pending.failed));
    $("#badge-failed").dataset.count = String(pending.failed);
    $("#badge-failed").setAttribute("aria-label", `${plural(pending.failed, "failed order")}`);

    setText($("#pending-summary"), orders === 0
      ? "All caught up"
      : `${plural(orders, "order")} waiting` + (copies !== orders ? ` (${plural(copies, "copy", "copies")})` : ""));
    renderBreakdown(pending);
    setText($("#pending-updated"), `Last checked ${new Date().toLocaleTimeString()}.`);
    showError("");
    // New failures appear on their own; rows that a Sync Order fixed keep their "Synced" answer.
    if (lastFailed !== null && pending.failed > lastFailed && currentView() === "failed") {
      loadFailed().catch((err) => showError(err.message));
    }
    lastFailed = pending.failed;
    return pending;
  }

  const sum = (counts) => Object.values(counts).reduce((a, b) => a + b, 0);

  function totalCell(pending, direction) {
    const copies = pending.copies_by_direction ? pending.copies_by_direction[direction] : sum(pending[direction]);
    const orders = pending.orders_by_direction ? pending.orders_by_direction[direction] : copies;
    return h("td", {
      class: "num", "data-direction": direction,
      title: copies !== orders ? `${plural(orders, "order")}, ${plural(copies, "copy", "copies")}` : null,
    }, String(orders), copies !== orders ? h("span", { class: "copies" }, ` (${plural(copies, "copy", "copies")})`) : null);
  }

  function renderBreakdown(pending) {
    const names = [...new Set([...Object.keys(pending.main_to_sub), ...Object.keys(pending.sub_to_main)])].sort();
    const box = $("#pending-breakdown");
    const signature = JSON.stringify([pending.main_to_sub, pending.sub_to_main, pending.failed,
      pending.failed_copies, pending.orders_by_direction, pending.copies_by_direction]);
    if (box.dataset.signature === signature) return;
    box.dataset.signature = signature;
    box.replaceChildren();
    if (names.length) {
      box.append(h("table", { class: "pending-table", id: "pending-table" },
        h("caption", { class: "sr-only" }, "Orders waiting, per store and direction"),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Store"),
          h("th", { scope: "col", class: "num" }, "Main → store"),
          h("th", { scope: "col", class: "num" }, "Store → main"))),
        h("tbody", {}, names.map((name) => h("tr", { "data-store": name },
          h("th", { scope: "row" }, name),
          h("td", { class: "num", "data-direction": "main_to_sub" }, String(pending.main_to_sub[name] || 0)),
          h("td", { class: "num", "data-direction": "sub_to_main" }, String(pending.sub_to_main[name] || 0))))),
        // All stores: orders, each once however many stores it waits for (an order of the main
        // store waiting for two sub-stores is one order, two copies).
        names.length > 1 ? h("tfoot", {}, h("tr", { "data-store": "" },
          h("th", { scope: "row" }, "All stores"),
          totalCell(pending, "main_to_sub"), totalCell(pending, "sub_to_main"))) : null));
    } else {
      box.append(h("p", { class: "muted" }, "No order is waiting in either direction."));
    }
    if (pending.failed) {
      const copies = pending.failed_copies ?? pending.failed;
      box.append(h("p", { class: "notice notice-error", id: "failed-notice" },
        `${plural(pending.failed, "order")} failed and ${pending.failed === 1 ? "needs" : "need"} attention`
          + (copies !== pending.failed ? ` (${plural(copies, "copy", "copies")})` : "") + ": ",
        h("a", { href: "#failed" }, "see failed orders"), "."));
    }
  }

  let pollTimer = null;
  function schedulePoll() {
    window.clearTimeout(pollTimer);
    pollTimer = window.setTimeout(async () => {
      if (!document.hidden) {
        try {
          await refreshPending();
        } catch (err) {
          showError(err.message);
        }
      }
      schedulePoll();
    }, PENDING_POLL_MS);
  }

  /* --- Sync Now ----------------------------------------------------------------------------- */

  let watching = null;

  async function syncNow(event) {
    event.preventDefault();
    const direction = $("#sync-direction").value;
    const store = $("#sync-store").value;
    const body = { direction };
    if (store) body.store = store;
    const button = $("#sync-button");
    button.disabled = true;
    try {
      const accepted = await api("POST", "/api/sync", body);
      await watchRun(accepted.run_id, accepted.new ? "" : "A run like this was already under way; showing it.");
    } catch (err) {
      showRunError(err.message);
    } finally {
      button.disabled = false;
    }
  }

  function showRunError(message) {
    $("#sync-status").hidden = false;
    $("#sync-result").replaceChildren(h("p", { class: "notice notice-error", role: "alert" }, message));
  }

  async function watchRun(runId, note) {
    watching = runId;
    const box = $("#sync-status");
    const bar = $("#sync-progress");
    const text = $("#sync-progress-text");
    box.hidden = false;
    box.dataset.runId = String(runId);
    box.dataset.status = "queued";
    $("#sync-result").replaceChildren(note ? h("p", { class: "muted" }, note) : "");
    bar.removeAttribute("value"); // indeterminate until the run knows its size
    setText(text, `Run ${runId} queued…`);
    for (;;) {
      const run = await api("GET", `/api/runs/${runId}`);
      if (watching !== runId) return;
      box.dataset.status = run.status;
      const { done, total } = run.progress;
      if (total > 0) {
        bar.max = total;
        bar.value = Math.min(done, total);
      } else if (FINISHED.has(run.status)) {
        bar.max = 1;
        bar.value = 1;
      }
      if (FINISHED.has(run.status)) {
        setText(text, total > 0
          ? `Run ${runId} finished: ${done} of ${plural(total, "copy", "copies")}.`
          : `Run ${runId} finished: nothing needed copying.`);
        await showRunResult(run);
        refreshPending().catch(() => {});
        loadRecentRuns().catch(() => {});
        return;
      }
      // A run counts copies (an order for two sub-stores is two); the badge counts orders.
      setText(text, total > 0
        ? `Syncing: ${done} of ${plural(total, "copy", "copies")}…`
        : (run.status === "queued" ? `Run ${runId} queued…` : "Looking for orders to sync…"));
      await new Promise((resolve) => window.setTimeout(resolve, RUN_POLL_MS));
    }
  }

  function countsEl(counts) {
    const item = (key, label) => h("div", { class: key === "failed" && counts.failed ? "bad" : "", "data-count": key },
      h("dt", {}, label), h("dd", {}, String(counts[key])));
    return h("div", { class: "counts-box" }, h("p", { class: "muted small counts-title" }, "Copies"),
      h("dl", { class: "counts", "aria-label": "Copies" },
        item("created", "Created"), item("updated", "Updated"), item("skipped", "Skipped"), item("failed", "Failed")));
  }

  async function showRunResult(run) {
    const result = $("#sync-result");
    const headline = {
      succeeded: ["notice-ok", "Sync finished."],
      partial: ["notice-warn", "Sync finished with problems."],
      failed: ["notice-error", "Sync failed."],
    }[run.status];
    const parts = [h("p", { class: `notice ${headline[0]}`, id: "sync-outcome" }, headline[1]), countsEl(run.counts)];
    if (run.counts.failed) {
      const since = parseTime(run.started_at || run.requested_at);
      const page = await api("GET", "/api/links?state=failed&limit=100");
      const failed = page.items.filter((link) => !since || parseTime(link.updated_at) >= since);
      if (failed.length) {
        parts.push(h("h3", {}, "Orders that failed"));
        parts.push(h("ul", { class: "events", id: "sync-failed-orders" }, failed.map((link) =>
          h("li", {}, h("strong", {}, `${orderRef(link.origin)} → ${link.target.store}`),
            link.order ? h("span", { class: "order-facts" }, [link.order.customer || "No name",
              money(link.order.total, link.order.currency)].filter(Boolean).join(" · ")) : null,
            reasonFor(link)))));
        parts.push(h("p", {}, h("a", { href: "#failed" }, "Sync them again from the failed orders list")));
      }
    }
    if (run.errors && run.errors.length) parts.push(runErrors(run.errors));
    result.replaceChildren(...parts);
  }

  /* --- failed orders ----------------------------------------------------------------------- */

  async function loadFailed() {
    const [failed, pending] = await Promise.all([
      api("GET", "/api/links?state=failed&limit=200"),
      api("GET", "/api/links?state=pending&limit=200"),
    ]);
    const retrying = pending.items.filter((link) => link.last_error);
    const list = $("#failed-list");
    const parts = [];
    if (!failed.items.length) {
      parts.push(h("p", { class: "notice notice-ok", id: "no-failed" }, "No failed orders. Nothing needs your attention."));
    } else {
      const orders = byOrder(failed.items);
      parts.push(h("p", { id: "failed-count" }, `${plural(orders.length, "order")} failed`
        + (failed.items.length !== orders.length ? ` (${plural(failed.items.length, "copy", "copies")})` : "") + "."));
      parts.push(orderTable(orders, "failed-table", "Failed orders", true));
      if (failed.total > failed.items.length) {
        parts.push(h("p", { class: "muted" }, `Showing the latest ${failed.items.length} of ${plural(failed.total, "copy", "copies")}.`));
      }
    }
    if (retrying.length) {
      parts.push(h("h2", {}, "Waiting for another try"));
      parts.push(h("p", { class: "muted" }, "These hit a problem that may pass on its own; wcsync tries again."));
      parts.push(orderTable(byOrder(retrying), "retrying-table", "Orders waiting for another try", false));
    }
    list.replaceChildren(...parts);
  }

  /** Links grouped by their origin order, newest first: a row is an order, its copies the detail. */
  function byOrder(links) {
    const groups = new Map();
    for (const link of links) {
      const key = `${link.origin.store}\u0000${link.origin.order_id}`;
      if (!groups.has(key)) groups.set(key, { origin: link.origin, order: link.order, links: [] });
      groups.get(key).links.push(link);
    }
    const groupsList = [...groups.values()];
    for (const group of groupsList) group.links.sort((a, b) => a.target.store.localeCompare(b.target.store));
    return groupsList;
  }

  function orderTable(orders, id, caption, withRetry) {
    return h("table", { class: "responsive orders", id },
      h("caption", { class: "sr-only" }, caption),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Order"),
        h("th", { scope: "col" }, "Copy to"),
        h("th", { scope: "col" }, "Reason"),
        h("th", { scope: "col", class: "num" }, "Attempts"),
        h("th", { scope: "col" }, withRetry ? "Last try" : "Next try"),
        withRetry ? h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Action")) : null)),
      h("tbody", {}, orders.map((group) => {
        const first = group.links[0];
        const latest = (key) => group.links.map((l) => l[key]).filter(Boolean).sort().pop() || null;
        return h("tr", { "data-order": `${group.origin.store}:${group.origin.order_id}`, "data-link": first.id },
          h("td", { "data-label": "Order" }, orderCell(group.origin, group.order,
            () => openOrder(group.origin.store, group.origin.order_id))),
          h("td", { "data-label": "Copy to" }, h("div", { class: "targets" }, group.links.map((link) =>
            h("span", { class: "target" }, link.target.store)))),
          h("td", { "data-label": "Reason" }, h("div", { class: "reasons" }, group.links.map((link) => reasonFor(link, group.links.length > 1)))),
          h("td", { "data-label": "Attempts", class: "num" }, String(Math.max(...group.links.map((l) => l.attempts)))),
          h("td", { "data-label": withRetry ? "Last try" : "Next try" },
            timeEl(withRetry ? latest("updated_at") : latest("next_attempt_at"))),
          withRetry ? h("td", { "data-label": "" }, retryButton(group)) : null);
      })));
  }

  function retryButton(group) {
    const { origin } = group;
    const targets = group.links.map((l) => l.target.store);
    // The reasons say "press Sync Order": the button says the same.
    const label = `Sync Order ${origin.order_id} from ${origin.store} to ${targets.join(", ")}`;
    const status = h("span", { class: "retry-status", role: "status", "aria-live": "polite" });
    const button = h("button", {
      type: "button", class: "primary", "aria-label": label,
      onclick: async () => {
        button.disabled = true;
        status.textContent = "Syncing…";
        try {
          const view = await api("POST", `/api/orders/${encodeURIComponent(origin.store)}/${origin.order_id}/sync`);
          const mine = view.links.filter((l) => targets.includes(l.target.store));
          const left = mine.filter((l) => l.state !== "synced");
          if (mine.length && !left.length) {
            status.textContent = `Synced: ${mine.map((l) => orderRef(l.target)).join(", ")}.`;
          } else {
            status.textContent = left.length
              ? left.map((l) => `Still ${l.state} on ${l.target.store}: ${l.last_error || "no reason given"}`).join(" ")
              : "No link found.";
            button.disabled = false;
          }
          refreshPending().catch(() => {});
        } catch (err) {
          status.textContent = err.message;
          button.disabled = false;
        }
      },
    }, "Sync Order");
    return h("div", { class: "actions" }, button, status);
  }

  /* --- order lookup ----------------------------------------------------------------------- */

  function openOrder(store, orderId) {
    window.location.hash = "#lookup";
    const select = $("#lookup-store");
    if (![...select.options].some((o) => o.value === store)) select.append(h("option", { value: store }, store));
    select.value = store;
    $("#lookup-id").value = String(orderId);
    lookUp(null, false);
  }

  async function lookUp(event, sync) {
    if (event) event.preventDefault();
    const form = $("#lookup-form");
    if (!form.reportValidity()) return;
    const store = $("#lookup-store").value;
    const orderId = $("#lookup-id").value;
    const box = $("#lookup-result");
    box.replaceChildren(h("p", { role: "status" }, sync ? "Syncing the order…" : "Looking it up…"));
    const path = `/api/orders/${encodeURIComponent(store)}/${encodeURIComponent(orderId)}`;
    try {
      const view = await api(sync ? "POST" : "GET", sync ? `${path}/sync` : path);
      box.replaceChildren(renderOrder(view));
      if (sync) refreshPending().catch(() => {});
    } catch (err) {
      box.replaceChildren(h("p", { class: "notice notice-error", role: "alert" }, err.message));
    }
  }

  function renderOrder(view) {
    const card = h("article", { class: "card", id: "order-view" }, h("h2", {}, `Order ${view.store} #${view.order_id}`));
    card.append(orderCell({ store: view.store, order_id: view.order_id, admin_url: view.admin_url }, view.order, null, false));
    if (!view.links.length) {
      card.append(h("p", { class: "muted" }, "wcsync has no record of this order yet. Press Sync Order to copy it now."));
      return card;
    }
    card.append(h("table", { class: "responsive" },
      h("caption", {}, "Where this order is copied"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "From"), h("th", { scope: "col" }, "To"), h("th", { scope: "col" }, "State"),
        h("th", { scope: "col", class: "num" }, "Attempts"), h("th", { scope: "col" }, "Synced"),
        h("th", { scope: "col" }, "Last error"))),
      h("tbody", {}, view.links.map((link) => h("tr", {},
        h("td", { "data-label": "From" }, orderRef(link.origin), " ",
          adminLink(link.origin.admin_url, "Open", `Open ${orderRef(link.origin)} in WooCommerce`)),
        h("td", { "data-label": "To" }, orderRef(link.target), " ",
          adminLink(link.target.admin_url, "Open", `Open ${orderRef(link.target)} in WooCommerce`)),
        h("td", { "data-label": "State" }, stateEl(link.state)),
        h("td", { "data-label": "Attempts", class: "num" }, String(link.attempts)),
        h("td", { "data-label": "Synced" }, timeEl(link.synced_at)),
        h("td", { "data-label": "Last error" }, link.last_error ? reasonFor(link) : "—"))))));
    card.append(h("h3", {}, "History"));
    if (!view.events.length) card.append(h("p", { class: "muted" }, "No events recorded."));
    else {
      card.append(h("ol", { class: "events", id: "order-events" }, view.events.map((e) =>
        h("li", {}, timeEl(e.at), h("strong", {}, e.kind.replace(/_/g, " ")), e.message ? ` — ${e.message}` : ""))));
    }
    return card;
  }

  /* --- stores ---------------------------------------------------------------------------- */

  let stores = [];

  async function loadStores() {
    stores = await api("GET", "/api/stores");
    fillStoreSelects();
    if (currentView() === "stores") renderStores();
    return stores;
  }

  function fillStoreSelects() {
    const tokenStore = $("#token-store");
    const keepToken = tokenStore.value;
    tokenStore.replaceChildren(...stores.map((s) => h("option", { value: s.name }, `${s.name} (${s.role})`)));
    if (keepToken && stores.some((s) => s.name === keepToken)) tokenStore.value = keepToken;
    const sync = $("#sync-store");
    const keep = sync.value;
    sync.replaceChildren(h("option", { value: "" }, "All stores"),
      ...stores.filter((s) => s.role === "sub").map((s) => h("option", { value: s.name }, s.name)));
    sync.value = keep && stores.some((s) => s.name === keep) ? keep : "";
    const lookup = $("#lookup-store");
    const keepLookup = lookup.value;
    lookup.replaceChildren(...stores.map((s) => h("option", { value: s.name }, `${s.name} (${s.role})`)));
    if (keepLookup) lookup.value = keepLookup;
  }

  function renderStores() {
    const list = $("#stores-list");
    if (!stores.length) {
      list.replaceChildren(h("p", { class: "muted" }, "No store yet. Add the main store first, then the sub-stores."));
      $("#store-add").open = true;
      return;
    }
    list.replaceChildren(...stores.map(storeCard));
  }

  function webhookFact(store) {
    const hook = store.webhook_status ?? store.webhook ?? store.webhooks;
    if (hook === undefined || hook === null) return null;
    const text = typeof hook === "string" ? hook : (hook.status || hook.state || JSON.stringify(hook));
    return [h("dt", {}, "Webhook"), h("dd", {}, text)];
  }

  function storeCard(store) {
    const skew = store.clock_skew_seconds;
    const skewText = skew === null || skew === undefined ? "not measured yet"
      : `${skew >= 0 ? "+" : ""}${Math.round(skew)} s${Math.abs(skew) >= 300 ? " (too far: fix the store's clock)" : ""}`;
    const checks = h("ul", { class: "checks", "aria-live": "polite" });
    const status = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
    const card = h("article", { class: "card store", "data-store": store.name, "aria-labelledby": `store-${store.name}` },
      h("div", { class: "store-head" },
        h("h2", { id: `store-${store.name}` }, store.name),
        h("span", {}, stateEl(store.role === "main" ? "ok" : "synced", store.role === "main" ? "main store" : "sub-store"),
          " ", store.enabled ? null : stateEl("disabled", "disabled"))),
      h("dl", { class: "facts" },
        h("dt", {}, "Site"), h("dd", {}, store.base_url),
        h("dt", {}, "Receives"), h("dd", {}, store.routing === "skus" ? "orders with products it sells" : "all orders"),
        h("dt", {}, "Key"), h("dd", {}, `${store.consumer_key_hint} (${store.auth_mode})`),
        h("dt", {}, "Orders kept"), h("dd", { "data-fact": "order-storage" }, {
          posts: "as posts (post.php screens)",
          hpos: "in order tables (HPOS)",
        }[store.order_storage] || "not known yet: press Check"),
        h("dt", {}, "Last success"), h("dd", {}, timeEl(store.last_success_at, "never")),
        h("dt", {}, "Last error"), lastErrorFact(store),
        h("dt", {}, "Clock skew"), h("dd", {}, skewText),
        webhookFact(store)),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: () => checkStore(store, checks, status) }, "Check"),
        h("button", { type: "button", onclick: () => editStore(store, card) }, "Edit"),
        h("button", { type: "button", class: store.enabled ? "danger" : "", onclick: () => toggleStore(store, status) },
          store.enabled ? "Disable" : "Enable")),
      status, checks);
    return card;
  }

  // The store's last error, red while it is the latest news of the store; once a request has
  // succeeded since, it is shown as past, so a recovered store does not look broken.
  function lastErrorFact(store) {
    if (!store.last_error) return h("dd", { "data-fact": "last-error" }, "none");
    const current = !store.last_success_at || !store.last_error_at
      || new Date(store.last_error_at) >= new Date(store.last_success_at);
    if (current) {
      return h("dd", { class: "bad", "data-fact": "last-error" },
        store.last_error, " (", timeEl(store.last_error_at), ")");
    }
    return h("dd", { "data-fact": "last-error" },
      "none since the last success; before it: ", store.last_error, " (", timeEl(store.last_error_at), ")");
  }

  function checkItems(checks) {
    return checks.map((c) => h("li", { class: c.ok ? "ok" : "bad", "data-check": c.name },
      h("span", { class: "verdict" }, c.ok ? "✓ Pass" : "✗ Fail"),
      h("span", {}, h("strong", {}, c.name), ": ", c.detail)));
  }

  async function checkStore(store, checks, status) {
    checks.replaceChildren();
    status.textContent = `Checking ${store.name}…`;
    try {
      const result = await api("POST", `/api/stores/${encodeURIComponent(store.name)}/check`);
      status.textContent = result.ok ? `${store.name} passed every check.` : `${store.name} failed a check.`;
      checks.replaceChildren(...checkItems(result.checks));
    } catch (err) {
      status.textContent = err.message;
    }
  }

  async function toggleStore(store, status) {
    status.textContent = store.enabled ? "Disabling…" : "Enabling…";
    try {
      await api("PATCH", `/api/stores/${encodeURIComponent(store.name)}`, { enabled: !store.enabled });
      await loadStores();
      $(`[data-store="${CSS.escape(store.name)}"] .form-status`).textContent =
        `${store.name} is ${store.enabled ? "disabled" : "enabled"}.`;
    } catch (err) {
      status.textContent = err.message;
    }
  }

  function editStore(store, card) {
    if ($("form.store-edit", card)) return;
    const form = $("#store-edit-template").content.firstElementChild.cloneNode(true);
    for (const label of form.querySelectorAll("label[data-for]")) {
      const id = `edit-${store.name}-${label.dataset.for}`;
      label.htmlFor = id;
      form.elements[label.dataset.for].id = id;
    }
    form.elements.base_url.value = store.base_url;
    form.elements.auth_mode.value = store.auth_mode;
    form.elements.routing.value = store.routing;
    form.querySelector('[data-action="cancel"]').addEventListener("click", () => form.remove());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const changes = {};
      for (const key of ["base_url", "auth_mode", "routing"]) {
        if (form.elements[key].value !== store[key]) changes[key] = form.elements[key].value;
      }
      for (const key of ["consumer_key", "consumer_secret"]) {
        if (form.elements[key].value) changes[key] = form.elements[key].value;
      }
      const status = $(".form-status", form);
      if (!Object.keys(changes).length) {
        status.textContent = "Nothing changed.";
        return;
      }
      try {
        await api("PATCH", `/api/stores/${encodeURIComponent(store.name)}`, changes);
        await loadStores();
        $(`[data-store="${CSS.escape(store.name)}"] .form-status`).textContent = `${store.name} saved.`;
      } catch (err) {
        status.textContent = err.message;
      }
    });
    card.append(form);
    form.elements.base_url.focus();
  }

  /* Like `wcsync store add`: the store is checked first and refused if a check fails; "Add
   * anyway" (the CLI's --force) adds it without the check. */
  async function addStore(event, anyway = false) {
    if (event) event.preventDefault();
    const form = $("#store-form");
    const status = $("#store-form-status");
    const checks = $("#store-form-checks");
    const again = $("#store-add-anyway");
    const data = Object.fromEntries(new FormData(form).entries());
    if (data.backfill_since) data.backfill_since = new Date(`${data.backfill_since}T00:00:00`).toISOString();
    else delete data.backfill_since;
    checks.replaceChildren();
    checks.hidden = again.hidden = true;
    status.textContent = anyway ? "Adding without a check…" : "Checking the store, then adding it…";
    try {
      const store = await api("POST", `/api/stores?check=${anyway ? "false" : "true"}`, data);
      form.reset();
      status.textContent = anyway
        ? `${store.name} added without a check. Press Check on its card once it is reachable.`
        : `${store.name} added: it passed every check.`;
      await loadStores();
    } catch (err) {
      if (err.code !== "store_check_failed") {
        status.textContent = err.message;
        return;
      }
      checks.replaceChildren(...checkItems(err.error.checks || []));
      checks.hidden = again.hidden = false;
      status.textContent = `${data.name} was not added: its check failed. Fix what fails, or add it anyway.`;
    }
  }

  /* --- plugin tokens --------------------------------------------------------------------- */

  async function loadTokens() {
    const tokens = await api("GET", "/api/tokens");
    const list = $("#tokens-list");
    if (!tokens.length) {
      list.replaceChildren(h("p", { class: "muted" }, "No token yet."));
      return tokens;
    }
    list.replaceChildren(h("table", { class: "responsive", id: "tokens-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Store"), h("th", { scope: "col" }, "Token"), h("th", { scope: "col" }, "Note"),
        h("th", { scope: "col" }, "Created"), h("th", { scope: "col" }, "Last used"),
        h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
      h("tbody", {}, tokens.map((token) => h("tr", { "data-token": token.id },
        h("td", { "data-label": "Store" }, token.store),
        h("td", { "data-label": "Token" }, h("code", {}, `${token.hint}…`)),
        h("td", { "data-label": "Note" }, token.label || "—"),
        h("td", { "data-label": "Created" }, timeEl(token.created_at)),
        h("td", { "data-label": "Last used" }, timeEl(token.last_used_at, "never")),
        h("td", { "data-label": "" }, revokeButton(token)))))));
    return tokens;
  }

  function revokeButton(token) {
    // Two presses: the plugin using the token stops at once, so the first press only asks.
    const button = h("button", { type: "button", class: "danger" }, "Revoke");
    button.addEventListener("click", async () => {
      if (!button.dataset.armed) {
        button.dataset.armed = "1";
        button.textContent = "Press again to revoke";
        return;
      }
      button.disabled = true;
      try {
        await api("DELETE", `/api/tokens/${token.id}`);
        await loadTokens();  // the list is current by the time the notice says it is done
        $("#token-created").replaceChildren(h("p", { class: "notice notice-ok" },
          `Token ${token.hint}… of ${token.store} revoked. Its plugin can no longer reach wcsync.`));
      } catch (err) {
        button.disabled = false;
        $("#token-created").replaceChildren(h("p", { class: "notice notice-error" }, err.message));
      }
    });
    return button;
  }

  async function createToken(event) {
    event.preventDefault();
    const form = event.target;
    const data = Object.fromEntries(new FormData(form).entries());
    const out = $("#token-created");
    try {
      const created = await api("POST", "/api/tokens", data);
      form.elements.label.value = "";
      const field = h("input", { id: "token-value", readonly: true, value: created.token, spellcheck: "false",
        "aria-describedby": "token-value-help" });
      field.addEventListener("focus", () => field.select());
      out.replaceChildren(h("div", { class: "notice notice-ok stack token-new" },
        h("label", { for: "token-value" }, `New token for ${created.store}`),
        field,
        h("p", { class: "small", id: "token-value-help" },
          "Copy it now: it is not shown again. Enter it in WooCommerce › wcsync on that store.")));
      await loadTokens();
      field.focus();
    } catch (err) {
      out.replaceChildren(h("p", { class: "notice notice-error" }, err.message));
    }
  }

  /* --- runs ----------------------------------------------------------------------------- */

  function runTable(runs, id) {
    if (!runs.length) return h("p", { class: "muted" }, "No run yet.");
    return h("table", { class: "responsive runs", id },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Run"), h("th", { scope: "col" }, "What"), h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col", class: "num" }, "Created"), h("th", { scope: "col", class: "num" }, "Updated"),
        h("th", { scope: "col", class: "num" }, "Skipped"), h("th", { scope: "col", class: "num" }, "Failed"),
        h("th", { scope: "col" }, "Started"))),
      h("tbody", {}, runs.map((run) => h("tr", { "data-run": run.id },
        h("td", { "data-label": "Run", class: "run-id" }, `#${run.id}`),
        h("td", { "data-label": "What", class: "run-what" }, describeRun(run)),
        h("td", { "data-label": "Status" }, h("div", {}, stateEl(run.status),
          run.status === "running" && run.progress.total ? ` ${run.progress.done}/${run.progress.total}` : "",
          run.errors && run.errors.length ? runErrors(run.errors) : null)),
        h("td", { "data-label": "Created", class: "num" }, String(run.counts.created)),
        h("td", { "data-label": "Updated", class: "num" }, String(run.counts.updated)),
        h("td", { "data-label": "Skipped", class: "num" }, String(run.counts.skipped)),
        h("td", { "data-label": "Failed", class: "num" }, String(run.counts.failed)),
        h("td", { "data-label": "Started", class: "run-started" }, timeEl(run.started_at || run.requested_at))))));
  }

  function runErrors(errors) {
    return h("details", { class: "run-errors" }, h("summary", {}, plural(errors.length, "problem")),
      h("ul", {}, errors.slice(-20).map((e) => h("li", {}, e.message || JSON.stringify(e)))));
  }

  function describeRun(run) {
    const kind = { sync_now: "Sync Now", scheduled: "Scheduled", order: "Sync Order", webhook: "Webhook",
      discovery: "Discovery" }[run.kind] || run.kind;
    const scope = run.order_id ? `${run.store} #${run.order_id}` : (run.store || DIRECTIONS[run.direction] || run.direction);
    return `${kind}: ${scope}`;
  }

  async function loadRecentRuns() {
    const runs = await api("GET", "/api/runs?limit=5");
    $("#recent-runs").replaceChildren(runTable(runs, "recent-runs-table"));
    return runs;
  }

  async function loadRuns() {
    const runs = await api("GET", "/api/runs?limit=50");
    $("#runs-list").replaceChildren(runTable(runs, "runs-table"));
  }

  /* --- start ----------------------------------------------------------------------------- */

  async function start() {
    $("#sync-form").addEventListener("submit", syncNow);
    $("#lookup-form").addEventListener("submit", (event) => lookUp(event, false));
    $("#lookup-sync").addEventListener("click", () => lookUp(null, true));
    $("#store-form").addEventListener("submit", (event) => addStore(event));
    $("#store-add-anyway").addEventListener("click", () => addStore(null, true));
    $("#token-form").addEventListener("submit", createToken);
    window.addEventListener("hashchange", () => showView(true));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) refreshPending().catch((err) => showError(err.message));
    });
    showView(false);
    try {
      await loadStores();
      if (currentView() !== "overview") await refreshPending();
      // A Sync Now already under way (another tab, another admin): follow it here.
      const runs = await api("GET", "/api/runs?limit=5");
      const active = runs.find((run) => run.kind === "sync_now" && !FINISHED.has(run.status));
      if (active) watchRun(active.id, "A Sync Now is already under way; following it.").catch((err) => showRunError(err.message));
    } catch (err) {
      showError(err.message);
    }
    schedulePoll();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
