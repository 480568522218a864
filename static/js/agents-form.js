// Registering an agent: suggest a slug from the name until the person types a slug of their own.
(() => {
  const form = document.querySelector("[data-agent-form]");
  const name = form && form.querySelector("#name");
  const slug = form && form.querySelector("#slug");
  if (!name || !slug) return;

  const toSlug = (text) =>
    text
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 64)
      .replace(/-+$/, "");

  let suggested = slug.value === "" || slug.value === toSlug(name.value);
  name.addEventListener("input", () => {
    if (suggested) slug.value = toSlug(name.value);
  });
  slug.addEventListener("input", () => {
    suggested = slug.value === "";
  });
})();
