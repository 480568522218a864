// Triage queue: "select all" for the bulk actions, and a count of what is selected.
(() => {
  const form = document.querySelector("[data-bulk-form]");
  if (!form) return;
  const all = form.querySelector("[data-select-all]");
  const boxes = () => Array.from(form.querySelectorAll("input[name='report_ids']"));
  const count = form.querySelector("[data-selected-count]");
  const update = () => {
    const ticked = boxes().filter((box) => box.checked).length;
    if (count) count.textContent = String(ticked);
    if (all) {
      all.checked = ticked > 0 && ticked === boxes().length;
      all.indeterminate = ticked > 0 && ticked < boxes().length;
    }
  };
  if (all) {
    all.addEventListener("change", () => {
      for (const box of boxes()) box.checked = all.checked;
      update();
    });
  }
  form.addEventListener("change", (event) => {
    if (event.target.name === "report_ids") update();
  });
  update();
})();
