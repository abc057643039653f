/// The console's only script: follows a run's server-sent events and writes them into the page.
/// Without it the page reloads itself (a `<noscript>` refresh) and shows the same rows.
extension ConsolePages {
    static let script = #"""
        "use strict";
        document.addEventListener("DOMContentLoaded", function () {
          var section = document.getElementById("direct");
          if (!section || !window.EventSource) { return; }
          var body = document.getElementById("deroulement");
          var status = document.getElementById("etat-direct");
          var recap = document.getElementById("bilan");
          var source = new EventSource(section.getAttribute("data-evenements"));
          var first = true;
          function cell(tag, text) { var c = document.createElement(tag); c.textContent = text; return c; }
          function badge(outcome, changed) {
            var bad = outcome === "failed" || outcome === "unreachable";
            var s = document.createElement("span");
            s.className = "etat etat-" + (bad ? "alerte" : changed ? "info" : "ok");
            s.textContent = changed && !bad ? "changed" : outcome;
            return s;
          }
          function row(host, task, outcome, changed, message) {
            if (first) { body.textContent = ""; first = false; }
            var tr = document.createElement("tr");
            var th = cell("th", host); th.scope = "row"; tr.appendChild(th);
            tr.appendChild(cell("td", task));
            var td = document.createElement("td"); td.appendChild(badge(outcome, changed)); tr.appendChild(td);
            tr.appendChild(cell("td", message || ""));
            body.appendChild(tr);
          }
          source.addEventListener("start", function () { if (first) { body.textContent = ""; first = false; } });
          source.addEventListener("task", function (e) {
            var d = JSON.parse(e.data);
            row(d.host, d.task + (d.item ? " (" + d.item + ")" : ""), d.outcome, d.changed, d.message);
          });
          source.addEventListener("unreachable", function (e) {
            var d = JSON.parse(e.data);
            row(d.host, "connexion", "unreachable", false, d.message);
          });
          source.addEventListener("note", function (e) { status.textContent = JSON.parse(e.data).text; });
          source.addEventListener("recap", function (e) {
            var d = JSON.parse(e.data);
            source.close();
            status.textContent = "Terminée" + (d.aborted ? " (arrêtée : " + d.aborted + ")" : "") + " — code de sortie " + d.exitCode + ".";
            var wrap = document.createElement("div"); wrap.className = "tableau";
            var table = document.createElement("table"); table.id = "bilan-tableau";
            table.appendChild(cell("caption", "Bilan par appareil"));
            var head = document.createElement("thead"); var hr = document.createElement("tr");
            ["Appareil", "ok", "modifiés", "échecs", "ignorés", "injoignable"].forEach(function (h) { var c = cell("th", h); c.scope = "col"; hr.appendChild(c); });
            head.appendChild(hr); table.appendChild(head);
            var tb = document.createElement("tbody");
            d.hosts.forEach(function (h) {
              var tr = document.createElement("tr");
              var th = cell("th", h.host); th.scope = "row"; tr.appendChild(th);
              [h.ok, h.changed, h.failed, h.skipped].forEach(function (n) { var c = cell("td", String(n)); c.className = "n"; tr.appendChild(c); });
              tr.appendChild(cell("td", h.unreachable > 0 ? "oui" : "non"));
              tb.appendChild(tr);
            });
            table.appendChild(tb); wrap.appendChild(table); recap.appendChild(wrap);
            var more = document.createElement("p"); var a = document.createElement("a");
            a.href = window.location.pathname; a.textContent = "Voir le détail par appareil et par tâche"; more.appendChild(a); recap.appendChild(more);
            var cancel = document.querySelector("form[action$='/annuler']");
            if (cancel) { cancel.parentNode.removeChild(cancel); }
          });
          source.onerror = function () {
            if (source.readyState === EventSource.CLOSED) { status.textContent = "Connexion perdue : rechargez la page."; }
          };
        });
        """#
}
