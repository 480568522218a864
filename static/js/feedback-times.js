// Show <time data-local-time> values in the reader's own time zone (the server writes UTC).
(() => {
  const dateOnly = { year: "numeric", month: "short", day: "numeric" };
  const dateTime = { ...dateOnly, hour: "2-digit", minute: "2-digit" };
  for (const element of document.querySelectorAll("time[data-local-time]")) {
    const when = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) continue;
    element.title = element.textContent;
    element.textContent = when.toLocaleString(undefined, element.hasAttribute("data-date-only") ? dateOnly : dateTime);
  }
})();
