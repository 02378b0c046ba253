// django-celery-beat's periodic task form: show the crontab in words under the field (moved out
// of the package's inline script; the data comes from the json_script block "readable-crontabs").
(function ($) {
  const readableCrontabs = JSON.parse($("#readable-crontabs").text());
  const help = $(".field-crontab .help");
  const originalCrontabHelp = help.text();
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    help.text(originalCrontabHelp).append($("<br>"), document.createTextNode(
      "Translation: " + (readableCrontabs[$("#id_crontab").val()] || "")));
  });
})(django.jQuery);
