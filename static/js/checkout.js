// Checkout: show only the section of the chosen way of receiving the order, and list the communes of a
// province as soon as it is chosen. The page works without this file (both sections shown, a button lists
// the communes).
(function () {
  "use strict";
  var form = document.querySelector("form[data-checkout]");
  if (!form) { return; }
  form.classList.add("checkout--js");

  function chosen() {
    var checked = form.querySelector("input[data-fulfilment]:checked");
    return checked ? checked.value : "pickup";
  }

  function toggle() {
    var way = chosen();
    form.querySelectorAll("[data-section]").forEach(function (section) {
      section.hidden = section.getAttribute("data-section") !== way;
    });
    form.querySelectorAll("[data-payment]").forEach(function (option) {
      var method = option.getAttribute("data-payment");
      var fits = method === "card" || (way === "delivery" ? method === "cash_on_delivery" : method === "pay_at_pickup");
      option.hidden = !fits;
      if (!fits) { option.querySelector("input").checked = false; }
    });
  }

  form.querySelectorAll("input[data-fulfilment]").forEach(function (input) {
    input.addEventListener("change", toggle);
  });
  var province = form.querySelector("select[name=province_code]");
  var refresh = form.querySelector("[data-refresh]");
  if (province && refresh) {
    province.addEventListener("change", function () {
      if (form.requestSubmit) { form.requestSubmit(refresh); } else { refresh.click(); }
    });
  }
  toggle();
})();
