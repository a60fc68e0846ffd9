// The billing page: Stripe.js (Elements) collects the card and confirms the SetupIntent with
// Stripe directly; only the SetupIntent's id comes back here, and the server asks Stripe which
// card it saved. No card number ever reaches Huiliu.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof window.Stripe !== "function") return;
  var stripe = window.Stripe(form.dataset.key);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var error = document.getElementById("card-error");
  var button = document.getElementById("save-card");
  form.addEventListener("submit", function (event) {
    if (form.elements.setup_intent.value) return; // confirmed: let the form post
    event.preventDefault();
    button.disabled = true;
    error.hidden = true;
    stripe.confirmCardSetup(form.dataset.secret, { payment_method: { card: card } }).then(function (result) {
      if (result.error || !result.setupIntent) {
        error.textContent = (result.error && result.error.message) || form.dataset.errorText;
        error.hidden = false;
        button.disabled = false;
        return;
      }
      form.elements.setup_intent.value = result.setupIntent.id;
      form.submit();
    });
  });
})();
