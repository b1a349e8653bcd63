/* The card payment page (templates/payments/pay.html). Mounts Stripe's card field in #card-element and, on
   submit, confirms the order's PaymentIntent (data-client-secret), then goes to data-return-url, where the server
   reads the intent's outcome from Stripe itself.
   Real Stripe.js: stripe.confirmCardPayment(secret, {payment_method: {card}}) does everything in the browser.
   Sandbox (data-sandbox="true", localstripe): its Stripe.js can tokenise a card but not confirm with it, so the
   token goes to data-sandbox-url (our server attaches it to the intent and confirms); if the card asks for 3-D
   Secure, stripe.confirmCardPayment(secret) shows localstripe's authentication box. */
(function () {
  "use strict";

  var form = document.getElementById("pay-form");
  if (!form) {
    return;
  }
  var data = form.dataset;
  var button = document.getElementById("pay-button");
  var message = document.getElementById("pay-message");

  function say(text) {
    message.textContent = text || "";
  }

  if (typeof window.Stripe !== "function") {
    say(data.messageLoading);
    return;
  }
  var stripe = window.Stripe(data.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  button.disabled = false;

  function errorText(result) {
    var error = result && result.error;
    return (error && (error.message || (error.error && error.error.message))) || data.messageFailed;
  }

  function finish() {
    window.location.assign(data.returnUrl);
  }

  function confirmInBrowser() {
    return stripe.confirmCardPayment(data.clientSecret, { payment_method: { card: card } });
  }

  function confirmInSandbox() {
    return stripe.createToken(card).then(function (result) {
      if (result.error) {
        return result;
      }
      return fetch(data.sandboxUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": data.csrfToken },
        body: JSON.stringify({ token: result.token.id })
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            return { error: body.error || {} };
          }
          if (body.status === "requires_action") {
            return stripe.confirmCardPayment(body.client_secret);
          }
          return { paymentIntent: { status: body.status } };
        });
      });
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    say("");
    var attempt = data.sandbox === "true" ? confirmInSandbox() : confirmInBrowser();
    attempt.then(function (result) {
      if (result && result.error) {
        say(errorText(result));
        button.disabled = false;
        return;
      }
      finish();
    }, function () {
      say(data.messageFailed);
      button.disabled = false;
    });
  });
})();
