// The labeling page's script. Every value from DATA is put in the page as text
// (textContent, never innerHTML), and every API call carries the token from the
// page's URL in a header.
"use strict";

(function () {
  const token = new URLSearchParams(window.location.search).get("token") || "";
  function randomId() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // One id per tab, kept across reloads, so a reload shows the same row.
  let tab = window.sessionStorage.getItem("skbait-tab");
  if (!tab) {
    tab = randomId();
    window.sessionStorage.setItem("skbait-tab", tab);
  }

  const $ = (id) => document.getElementById(id);
  let view = null;
  let queue = Promise.resolve();
  let pollTimer = null;
  let pendingLabel = null; // a new class waiting for confirmation
  // A multi-label campaign: the labels ticked for the row shown, and labels added
  // in this page that no row holds yet.
  let ticked = new Set();
  let tickedFor = null;
  let added = [];
  // Images at full size (click or Z), kept from row to row: a reader zooms once.
  let fullSize = false;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  // A value from DATA, or a label, in the direction of its own script: Arabic or
  // Hebrew text reads right to left, its punctuation at its end.
  function own(node) {
    node.dir = "auto";
    return node;
  }

  // A sentence of the page's words and values from DATA: each value (a node, as
  // isolated() makes) keeps its own direction, so that an Arabic label's "!" stays at
  // its end rather than on the English side.
  function write(node, parts) {
    clear(node);
    parts.forEach((part) => node.append(part));
  }

  function isolated(text) {
    return el("bdi", text);
  }

  // Text set only when it changes: a live region repainted with the same words at
  // each poll would have a screen reader say them again.
  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function fmt(value, digits) {
    if (value === null || value === undefined) return "–";
    return Number(value).toFixed(digits === undefined ? 3 : digits);
  }

  async function api(path, body) {
    const options = { headers: { "X-Skbait-Token": token }, cache: "no-store" };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(Object.assign({ tab: tab }, body));
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (err) {
      // No answer at all: the browser's "Failed to fetch" said nothing of the label.
      throw new Error("skbait label does not answer (stopped, or the network is down): " +
        "this last action may not be saved. The labels saved before it are kept; " +
        "start skbait label again and open the address it prints.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = { error: "the server answered " + response.status };
    }
    if (!response.ok) {
      const error = new Error(data.error || "request failed");
      error.status = response.status;
      error.data = data;
      throw error;
    }
    return data;
  }

  // Actions run one after another: a key pressed while a label is being saved
  // applies to the row shown once it is saved.
  function enqueue(action) {
    queue = queue.then(action).catch(showError);
    return queue;
  }

  function showError(err) {
    $("message").textContent = err && err.message ? err.message : String(err);
    $("message").className = "error";
    if (err && err.status === 403) stopPolling();
  }

  function say(...parts) {
    write($("message"), parts);
    $("message").className = "";
  }

  function stopPolling() {
    if (pollTimer) window.clearTimeout(pollTimer);
    pollTimer = null;
  }

  function schedulePoll() {
    stopPolling();
    // Fast while the next batch is being chosen or no row is shown; otherwise a
    // heartbeat that keeps this tab's row reserved.
    const busy = !view || view.job.running || !view.row;
    pollTimer = window.setTimeout(
      () => enqueue(() => refresh()),
      busy ? 700 : 20000
    );
  }

  async function refresh() {
    render(await api("api/state?tab=" + encodeURIComponent(tab)));
  }

  async function submit(label, confirm) {
    if (!view || !view.row) return;
    const row = view.row.row;
    try {
      render(await api("api/label", { row: row, label: label, confirm: !!confirm }));
      $("new-label").value = "";
      hideNear();
      say("Saved: row " + row + " is ", isolated(label), ".");
    } catch (err) {
      if (err.status === 409 && err.data && err.data.near) {
        showNear(label, err.data.near, err.message, err.data.keep !== false);
        return;
      }
      throw err;
    }
  }

  // keep: whether the label may be kept as a new class (not when the campaign's
  // merge would refuse it as a misspelling).
  function showNear(label, near, message, keep) {
    pendingLabel = keep ? label : null;
    $("near").hidden = false;
    $("near-text").textContent = message + " Use: ";
    const choices = $("near-choices");
    clear(choices);
    near.forEach((known) => {
      const button = own(el("button", known, "near-choice"));
      button.type = "button";
      button.addEventListener("click", () => enqueue(() => submit(known, false)));
      choices.appendChild(button);
    });
    const keepButton = $("near-keep");
    write(keepButton, ["keep “", isolated(label), "” as a new class"]);
    $("near-keep").hidden = !keep;
  }

  function hideNear() {
    pendingLabel = null;
    // A keyboard user answering the question goes back to the box the label came from.
    const answering = $("near").contains(document.activeElement);
    $("near").hidden = true;
    if (answering) $("new-label").focus();
  }

  function multi() {
    return !!(view && view.multi_label);
  }

  // The check boxes: every known label, then those added here.
  function labelChoices() {
    const names = view.classes.map((c) => c.label);
    added.forEach((name) => {
      if (names.indexOf(name) < 0) names.push(name);
    });
    return names;
  }

  async function submitSet(labels) {
    if (!view || !view.row) return;
    const row = view.row.row;
    render(await api("api/label", { row: row, labels: labels }));
    added = added.filter((name) => labels.indexOf(name) < 0);
    $("new-label").value = "";
    const names = labels.length ? labels : [view.multi_label.no_labels];
    const list = names.flatMap((name, i) => (i ? [", ", isolated(name)] : [isolated(name)]));
    say("Saved: row " + row + " is ", ...list, ".");
  }

  // Through the queue, as the keys that save: a box ticked while a set is being
  // saved is the next row's, where it was the saved row's and lost with it.
  function toggle(name) {
    return enqueue(() => {
      if (!view || !view.row || view.row.status === "in DATA") return;
      if (ticked.has(name)) ticked.delete(name);
      else ticked.add(name);
      renderClasses(view);
    });
  }

  function post(path, body) {
    return enqueue(async () => {
      render(await api(path, body));
      say();
    });
  }

  // ------------------------------------------------------------------ render

  function render(data) {
    const shown = view && view.row ? view.row.row : null;
    // A row after a wait (the next batch, a row another tab let go) comes with a word.
    const arrived = view && !view.row && data.row;
    if (shown !== (data.row ? data.row.row : null)) {
      // The question about a near class, and a label typed but not sent, were
      // about the row shown: not the next one.
      hideNear();
      $("new-label").value = "";
      // The next row is read from its start, not where the last one was scrolled to.
      $("fields-box").scrollTop = 0;
    }
    view = data;
    $("data-name").textContent = data.data;
    const b = data.batch;
    const line = data.finished
      ? "Every row of " + data.data + " is labeled."
      : "Round " + (data.round === null ? "–" : data.round) + " · batch: " + b.labeled +
        " of " + b.size + " labeled" + (b.skipped ? ", " + b.skipped + " skipped" : "");
    $("batch-line").textContent = line;
    renderJob(data.job);
    renderRow(data);
    renderClasses(data);
    renderSide(data);
    const focused = document.activeElement;
    $("undo").disabled = !data.can_undo;
    $("prev").disabled = data.position.index <= 0;
    // An action pressed to its end (Undo with nothing left, Prev on the first row) hands
    // the focus to the next action it can, not to the page's start.
    if ((focused === $("undo") || focused === $("prev")) && focused.disabled) {
      const next = Array.from($("actions").querySelectorAll("button")).find((b) => !b.disabled);
      if (next) next.focus();
    }
    if (arrived) say("Row " + data.row.row + " is ready to label.");
    schedulePoll();
  }

  function renderJob(job) {
    const box = $("job");
    if (!job.running && !job.error && !job.note) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.className = job.error ? "failed" : "";
    const share = job.steps ? Math.max(0.05, job.step / job.steps) : 0.05;
    $("job-bar").style.width = Math.round(share * 100) + "%";
    // The step is announced (the text is a live region); the seconds, which change at
    // each poll, are shown beside it, not read out.
    let seconds = "";
    if (job.error) {
      setText($("job-text"), "The next batch could not be chosen: " + job.error +
        " (your labels are saved.)");
    } else if (!job.running) {
      setText($("job-text"), "Labels written to DATA, but: " + job.note);
    } else if (job.stage === "waiting") {
      setText($("job-text"), "Batch done: writing the labels to DATA in a moment (Undo still works).");
    } else {
      setText($("job-text"), "Step " + job.step + " of " + job.steps + ": " + job.stage + "…");
      if (job.elapsed !== undefined) seconds = fmt(job.elapsed, 0) + " s";
    }
    setText($("job-time"), seconds);
    $("retry").hidden = !job.error;
  }

  function renderRow(data) {
    const row = data.row;
    const fields = $("fields");
    clear(fields);
    $("empty").hidden = !!row;
    // Emptied while a row shows: the next wait is announced, even in the same words.
    if (row) setText($("empty"), "");
    $("card").className = row ? "" : "idle";
    if (!row) {
      $("row-id").textContent = "";
      $("row-status").textContent = "";
      $("position").textContent = "";
      $("why").textContent = "";
      $("prediction").textContent = "";
      setText($("empty"), data.finished
        ? "Nothing left to label."
        : data.job.running
          ? "The next batch is on its way; this page updates by itself."
          : data.job.error
            ? "No row to show: the next batch could not be chosen (see above)."
            : "No row to show right now: the other rows of this batch are with other tabs.");
      return;
    }
    $("row-id").textContent = "Row " + row.row;
    write($("row-status"), row.label !== null && row.label !== undefined
      ? [row.status + ": ", isolated(row.label)]
      : [row.status]);
    $("row-status").className = "badge " + row.status.replace(/ /g, "-");
    $("position").textContent = "(" + (data.position.index + 1) + " of " +
      data.position.length + " seen in this tab)";
    const why = row.why;
    if (why) {
      const design = why.design === "cold_start" ? "the label-free design" : why.design;
      let text = "Why this row: chosen by " + design + ", rank " + why.rank + " of " + why.of;
      if (why.utility !== null && why.utility !== undefined) text += ", gain " + fmt(why.utility, 4);
      $("why").textContent = text;
    } else {
      $("why").textContent = "";
    }
    const p = row.prediction;
    if (p) {
      write($("prediction"), ["Model says: ", isolated(p.label),
        p.probability !== null ? " (probability " + fmt(p.probability, 2) + ")" : ""]);
    } else {
      $("prediction").textContent = data.multi_label
        ? "No model prediction for label sets on this page."
        : "No model prediction yet.";
    }
    row.fields.forEach((field) => {
      const tr = el("tr");
      tr.appendChild(own(el("th", field.column)));
      const td = el("td", null, field.kind);
      if (field.kind === "image") {
        const img = document.createElement("img");
        img.alt = field.value;
        img.src = field.src.indexOf("api/image") === 0
          ? field.src + encodeURIComponent(field.column) + "&token=" + encodeURIComponent(token)
          : field.src;
        // A file the browser cannot decode (a damaged PNG, a JPEG that is not one)
        // says so, rather than showing a broken image.
        img.addEventListener("error", () => {
          td.className = "file";
          td.replaceChild(el("div", "the browser could not read this image.", "note"), img);
        });
        // Fitted to the page by default; at full size it scrolls in the row's box.
        img.title = "click (or Z) for full size; again to fit";
        img.addEventListener("click", () => setFullSize(!fullSize));
        if (fullSize) td.classList.add("full");
        td.appendChild(img);
        td.appendChild(own(el("div", field.value, "path")));
      } else if (field.kind === "file") {
        // A file the page shows no image of (DICOM, missing, outside DATA's folder):
        // its path, and why.
        td.appendChild(own(el("div", field.value, "path")));
        td.appendChild(el("div", field.note, "note"));
      } else if (field.kind === "number") {
        td.appendChild(el("span", field.value, "num"));
      } else {
        td.textContent = field.value;
        own(td);
      }
      tr.appendChild(td);
      fields.appendChild(tr);
    });
  }

  function renderChecks(data) {
    const box = $("classes");
    clear(box);
    const row = data.row;
    const key = row ? row.row + ":" + row.label : null;
    if (key !== tickedFor) {
      // A new row (or a new label for it): start from the labels it holds.
      ticked = new Set(row && row.labels ? row.labels : []);
      tickedFor = key;
    }
    const usable = !!row && row.status !== "in DATA";
    const list = el("div", null, "checks");
    labelChoices().forEach((name, i) => {
      const item = el("label", null, "check");
      const box_ = document.createElement("input");
      box_.type = "checkbox";
      box_.checked = ticked.has(name);
      box_.disabled = !usable;
      box_.dataset.label = name;
      box_.addEventListener("change", () => toggle(name));
      item.appendChild(box_);
      if (i < 9) item.appendChild(el("kbd", String(i + 1)));
      item.appendChild(own(el("span", name, "name")));
      list.appendChild(item);
    });
    box.appendChild(list);
    const save = el("button", "Save (Enter)", "class save");
    save.type = "button";
    save.id = "save-set";
    save.disabled = !usable;
    save.addEventListener("click", () => enqueue(() => submitSet(Array.from(ticked))));
    box.appendChild(save);
    const none = el("button", null, "class none");
    none.type = "button";
    none.id = "none-of-these";
    none.appendChild(el("kbd", "0"));
    // The token as the cells hold it; the default "(none)" has its own parentheses.
    const token = data.multi_label.no_labels;
    const shown = /^\(.*\)$/.test(token) ? token : "(" + token + ")";
    none.appendChild(el("span", "None of these " + shown, "name"));
    none.disabled = !usable;
    none.addEventListener("click", () => enqueue(() => submitSet([])));
    box.appendChild(none);
    $("new-label").disabled = !usable || data.declared;
    $("new-label").placeholder = "add a label (Enter), then tick it";
  }

  // The choice a keyboard user is on (a class, a box, Save) keeps the focus when the
  // choices are drawn again: after a label, a tick, or a poll.
  function renderClasses(data) {
    const focused = document.activeElement;
    const inside = focused && focused !== $("classes") && $("classes").contains(focused);
    const id = inside ? focused.id : "";
    const label = inside ? focused.dataset.label : undefined;
    drawClasses(data);
    if (!inside) return;
    const again = id
      ? $(id)
      : Array.from($("classes").querySelectorAll("[data-label]"))
        .find((node) => node.dataset.label === label);
    if (again) again.focus();
  }

  function drawClasses(data) {
    // The box completes a label typed to a known class: the keyboard's way to the
    // classes past the ninth.
    const known = $("known-classes");
    clear(known);
    data.classes.forEach((c) => {
      const option = document.createElement("option");
      option.value = c.label;
      known.appendChild(option);
    });
    $("classes").setAttribute("aria-label", data.multi_label ? "Labels" : "Classes");
    if (data.multi_label) {
      renderChecks(data);
      return;
    }
    const box = $("classes");
    clear(box);
    data.classes.forEach((c, i) => {
      const button = el("button", null, "class");
      button.type = "button";
      if (i < 9) button.appendChild(el("kbd", String(i + 1)));
      button.appendChild(own(el("span", c.label, "name")));
      button.dataset.label = c.label;
      const current = data.row && data.row.label === c.label;
      if (current) button.classList.add("chosen");
      button.setAttribute("aria-pressed", current ? "true" : "false");
      button.addEventListener("click", () => enqueue(() => submit(c.label, false)));
      box.appendChild(button);
    });
    const usable = !!data.row && data.row.status !== "in DATA";
    box.querySelectorAll("button").forEach((b) => (b.disabled = !usable));
    $("new-label").disabled = !usable;
    // A regression's label is a number, not a class (the server checks it).
    const numeric = data.task === "regression" || data.label_type === "float";
    $("new-label").placeholder = numeric
      ? "the row's value, a number (Enter)"
      : "a new class, or any label (Enter)";
    $("new-label").inputMode = numeric ? "decimal" : "text";
    $("new-class").querySelector("button").textContent = numeric ? "Save" : "Add";
  }

  // The side panel lists the most frequent classes only, to stay short.
  const SHOWN_CLASSES = 30;

  function renderSide(data) {
    const counts = $("counts");
    clear(counts);
    const entries = Object.entries(data.counts).sort((a, b) => b[1] - a[1]);
    const most = entries.length ? entries[0][1] : 1;
    entries.slice(0, SHOWN_CLASSES).forEach(([label, count]) => {
      const tr = el("tr");
      tr.appendChild(own(el("th", label)));
      const bar = el("td", null, "barcell");
      const fill = el("span", null, "fill");
      fill.style.width = Math.round((100 * count) / most) + "%";
      bar.appendChild(fill);
      tr.appendChild(bar);
      tr.appendChild(el("td", count, "number"));
      counts.appendChild(tr);
    });
    // The classes left out are named by their number, so that none vanishes silently.
    const left = entries.length - SHOWN_CLASSES;
    if (left > 0) {
      const td = el("td", "and " + left + " more class" + (left === 1 ? "" : "es"), "more");
      td.colSpan = 3;
      const tr = el("tr");
      tr.appendChild(td);
      counts.appendChild(tr);
    }
    $("totals").textContent = data.n_labeled + " of " + data.n_rows + " rows labeled · " +
      data.rounds + " round(s)" +
      (data.pending ? " · " + data.pending + " label(s) saved, not yet in DATA" : "");
    const acc = data.accuracy;
    if (acc) {
      const name = acc.metric === "accuracy" ? "Accuracy" : "R²";
      $("accuracy").textContent = name + " " + fmt(acc.value, 2) + " (95% interval " +
        fmt(acc.low, 2) + "–" + fmt(acc.high, 2) + "), " + acc.folds +
        "-fold cross-validation on " + acc.n + " labels" +
        (data.estimator ? " (" + data.estimator + ")" : "");
    } else if (data.multi_label) {
      $("accuracy").textContent = "Not estimated for label sets on this page: skbait status " +
        "gives the micro-F1 estimate.";
    } else if (data.task === "regression" || data.label_type === "float") {
      $("accuracy").textContent = "Not estimated yet: it needs four values.";
    } else {
      $("accuracy").textContent = "Not estimated yet: it needs two labels of each of two classes.";
    }
    drawCurve(data.curve);
    const table = $("stopping");
    clear(table);
    if (!data.stopping.length) {
      const tr = el("tr");
      tr.appendChild(el("td", "Measured from the first round with a model."));
      table.appendChild(tr);
    }
    data.stopping.forEach((c) => {
      const tr = el("tr", null, c.stop ? "stop" : "");
      tr.appendChild(el("th", c.name));
      tr.appendChild(el("td", c.value === null ? "–" : fmt(c.value, 3), "number"));
      tr.appendChild(el("td", c.stop ? "stop" : c.note || c.rule, "rule"));
      table.appendChild(tr);
    });
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, String(v)));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawCurve(points) {
    const box = $("curve");
    clear(box);
    const W = 280, H = 150, left = 34, right = 8, top = 8, bottom = 24;
    if (!points || !points.length) {
      box.appendChild(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "note" },
        "learning curve: after a few rounds"));
      return;
    }
    const xs = points.map((p) => p.n);
    const xmin = Math.min(...xs), xmax = Math.max(...xs);
    const ymin = Math.min(0, ...points.map((p) => p.low)), ymax = 1;
    const x = (n) => left + (xmax === xmin ? 0.5 : (n - xmin) / (xmax - xmin)) * (W - left - right);
    const y = (v) => top + (1 - (v - ymin) / (ymax - ymin)) * (H - top - bottom);
    box.appendChild(svg("line", { x1: left, y1: H - bottom, x2: W - right, y2: H - bottom, class: "axis" }));
    box.appendChild(svg("line", { x1: left, y1: top, x2: left, y2: H - bottom, class: "axis" }));
    [ymin, (ymin + ymax) / 2, ymax].forEach((v) => {
      box.appendChild(svg("text", { x: left - 4, y: y(v) + 4, "text-anchor": "end", class: "tick" }, fmt(v, 1)));
    });
    box.appendChild(svg("text", { x: left, y: H - 6, class: "tick" }, String(xmin)));
    box.appendChild(svg("text", { x: W - right, y: H - 6, "text-anchor": "end", class: "tick" }, xmax + " labels"));
    const band = points.map((p) => x(p.n) + "," + y(p.high))
      .concat(points.slice().reverse().map((p) => x(p.n) + "," + y(p.low)));
    box.appendChild(svg("polygon", { points: band.join(" "), class: "band" }));
    box.appendChild(svg("polyline", { points: points.map((p) => x(p.n) + "," + y(p.value)).join(" "), class: "line" }));
    points.forEach((p) => {
      const dot = svg("circle", { cx: x(p.n), cy: y(p.value), r: 3, class: "dot" });
      dot.appendChild(svg("title", {}, p.n + " labels: " + fmt(p.value, 2)));
      box.appendChild(dot);
    });
  }

  function setFullSize(on) {
    fullSize = on;
    $("fields-box").classList.toggle("full", on);
    document.querySelectorAll("#fields td.image").forEach((td) => {
      td.classList.toggle("full", on);
    });
  }

  // ------------------------------------------------------------------ events

  document.addEventListener("keydown", (event) => {
    const typing = event.target && (event.target.tagName === "TEXTAREA" ||
      (event.target.tagName === "INPUT" && event.target.type !== "checkbox"));
    if (typing) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!view) return;
    const key = event.key;
    // Enter or Space on a focused button presses that button (Skip, None of these),
    // not the page's Enter, which saves the ticked set.
    if ((key === "Enter" || key === " ") && event.target.tagName === "BUTTON") return;
    // In the row's box, focused and wider than its view (an image at full size), the
    // left and right arrows pan it, as up and down scroll it.
    const box = $("fields-box");
    if ((key === "ArrowLeft" || key === "ArrowRight") && event.target === box &&
      box.scrollWidth > box.clientWidth) return;
    // A key held down repeats: one press, one label (only the arrows may run on).
    if (event.repeat && key !== "ArrowLeft" && key !== "ArrowRight") {
      event.preventDefault();
      return;
    }
    if (multi() && /^[0-9]$/.test(key)) {
      event.preventDefault();
      if (key === "0") {
        enqueue(() => submitSet([]));
      } else {
        const name = labelChoices()[Number(key) - 1];
        if (name !== undefined) toggle(name);
      }
    } else if (multi() && key === "Enter") {
      event.preventDefault();
      enqueue(() => submitSet(Array.from(ticked)));
    } else if (/^[1-9]$/.test(key)) {
      event.preventDefault();
      enqueue(() => {
        const c = view.classes[Number(key) - 1];
        if (c && view.row) return submit(c.label, false);
        return undefined;
      });
    } else if (key === "s" || key === "S") {
      event.preventDefault();
      enqueue(async () => {
        if (view.row) render(await api("api/skip", { row: view.row.row }));
      });
    } else if (key === "u" || key === "U") {
      event.preventDefault();
      post("api/undo", {});
    } else if (key === "ArrowLeft") {
      event.preventDefault();
      post("api/move", { step: -1 });
    } else if (key === "ArrowRight") {
      event.preventDefault();
      post("api/move", { step: 1 });
    } else if (key === "n" || key === "N") {
      event.preventDefault();
      $("new-label").focus();
    } else if (key === "z" || key === "Z") {
      event.preventDefault();
      setFullSize(!fullSize);
    }
  });

  $("new-class").addEventListener("submit", (event) => {
    event.preventDefault();
    const label = $("new-label").value.trim();
    if (label && multi()) {
      // A new label joins the check boxes, ticked; it is checked when the set is saved.
      $("new-label").value = "";
      $("new-label").blur();
      enqueue(() => {
        if (!view || !view.row || view.row.status === "in DATA") return;
        if (added.indexOf(label) < 0) added.push(label);
        ticked.add(label);
        renderClasses(view);
      });
    } else if (label) {
      enqueue(() => submit(label, false));
    }
  });
  $("near-keep").addEventListener("click", () => {
    const label = pendingLabel;
    if (label !== null) enqueue(() => submit(label, true));
  });
  $("skip").addEventListener("click", () => enqueue(async () => {
    if (view && view.row) render(await api("api/skip", { row: view.row.row }));
  }));
  $("undo").addEventListener("click", () => post("api/undo", {}));
  $("prev").addEventListener("click", () => post("api/move", { step: -1 }));
  $("next").addEventListener("click", () => post("api/move", { step: 1 }));
  $("retry").addEventListener("click", () => post("api/retry", {}));

  // A duplicated browser tab starts with a copy of this tab's sessionStorage, id
  // included: it asks whether a tab open holds its id, and if one answers, takes a
  // new id, so that the two are not shown (and do not label) the same rows.
  if (window.BroadcastChannel) {
    const channel = new window.BroadcastChannel("skbait-label-tabs");
    const nonce = randomId();
    channel.addEventListener("message", (event) => {
      const message = event.data || {};
      if (message.ask === tab && message.nonce !== nonce) {
        channel.postMessage({ taken: tab, nonce: message.nonce });
      } else if (message.taken === tab && message.nonce === nonce) {
        tab = randomId();
        window.sessionStorage.setItem("skbait-tab", tab);
        enqueue(() => refresh());
      }
    });
    channel.postMessage({ ask: tab, nonce: nonce });
  }

  enqueue(() => refresh());
})();
