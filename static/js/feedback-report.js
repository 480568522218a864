// Report form: show open reports that sound the same while the summary is typed, with "Me too"
// buttons, and send the time the problem happened in the person's own time zone.
(() => {
  const form = document.querySelector("[data-report-form]");
  if (!form) return;
  const agent = form.querySelector("#agent");
  const summary = form.querySelector("#summary");
  const live = document.getElementById("similar-live");
  const list = live && live.querySelector("[data-similar-list]");
  const meTooForms = document.querySelector("[data-metoo-forms]");
  const fileAnyway = form.querySelector("#file_anyway");
  const tzOffset = form.querySelector("#tz_offset");
  const occurredAt = form.querySelector("#occurred_at");
  const csrf = form.querySelector("input[name='csrf_token']");

  // The server filled in "now" in UTC; on a fresh form show the person's local time instead.
  if (tzOffset) tzOffset.value = String(new Date().getTimezoneOffset());
  if (occurredAt && fileAnyway && fileAnyway.value !== "1" && !form.querySelector(".is-invalid")) {
    const now = new Date();
    const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
    occurredAt.value = local.toISOString().slice(0, 16);
  }

  if (!agent || !summary || !live || !list) return;
  let timer = null;
  let lastQuery = "";

  const meTooForm = (report) => {
    const id = `metoo-${report.id}`;
    if (!document.getElementById(id)) {
      const f = document.createElement("form");
      f.id = id;
      f.method = "post";
      f.action = report.subscribe_url;
      if (csrf) {
        const token = document.createElement("input");
        token.type = "hidden";
        token.name = "csrf_token";
        token.value = csrf.value;
        f.appendChild(token);
      }
      meTooForms.appendChild(f);
    }
    return id;
  };

  const render = (reports) => {
    list.replaceChildren();
    if (!reports.length) {
      live.hidden = true;
      return;
    }
    for (const report of reports) {
      const item = document.createElement("li");
      item.className = "list-group-item d-flex flex-wrap justify-content-between align-items-center gap-2";
      const text = document.createElement("span");
      text.textContent = `#${report.id} ${report.summary} (${report.status}, filed ${report.filed})`;
      item.appendChild(text);
      if (report.is_mine || report.is_following) {
        const link = document.createElement("a");
        link.className = "btn btn-sm btn-outline-secondary";
        link.href = report.url;
        link.textContent = report.is_mine ? "You filed this" : "You follow this";
        item.appendChild(link);
      } else {
        const button = document.createElement("button");
        button.type = "submit";
        button.className = "btn btn-sm btn-outline-primary";
        button.setAttribute("form", meTooForm(report));
        button.textContent = "Me too";
        item.appendChild(button);
      }
      list.appendChild(item);
    }
    live.hidden = false;
    // The person has seen the similar reports; sending now means "file mine anyway".
    if (fileAnyway) fileAnyway.value = "1";
  };

  const lookUp = () => {
    const query = summary.value.trim();
    const key = `${agent.value}|${query}`;
    if (!agent.value || query.length < 4 || key === lastQuery) return;
    lastQuery = key;
    const url = `${form.dataset.similarUrl}?agent=${encodeURIComponent(agent.value)}&q=${encodeURIComponent(query)}`;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : { reports: [] }))
      .then((data) => render(data.reports || []))
      .catch(() => {});
  };

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(lookUp, 400);
  };
  summary.addEventListener("input", schedule);
  agent.addEventListener("change", schedule);
})();
