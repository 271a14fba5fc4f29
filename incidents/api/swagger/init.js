// Starts Swagger UI on /api/v1/docs. A file of its own, not an inline script, so that the
// page's content security policy can allow scripts from this service only ('self').
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: container.dataset.specUrl,
    domNode: container,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    // Never fetch a description named in the page's address (?url=…): only ours.
    queryConfigEnabled: false,
    validatorUrl: null
  });
});
