// Draws each dashboard chart: the figure JSON sits in a <script type="application/json"> data block
// (no inline script), named by the chart element's data-figure attribute.
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
  };

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-figure"));
    if (!source || typeof window.Plotly === "undefined") {
      return;
    }
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(element, figure.data, figure.layout || {}, CONFIG);
  }

  document.querySelectorAll("[data-figure]").forEach(draw);
})();
