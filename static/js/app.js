// Small behaviours every page may use, declared in the markup instead of inline handlers
// (the Content-Security-Policy allows no inline script):
//   <select data-autosubmit>  submits its form when changed
//   <button data-print>       prints the page
//   <input type="month" data-month-start="period_start">  keeps the form's field period_start
//                             at the first day of the chosen month
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
document.addEventListener("input", (event) => {
  const month = event.target.closest("[data-month-start]");
  if (month && month.value) month.form.elements[month.dataset.monthStart].value = month.value + "-01";
});
