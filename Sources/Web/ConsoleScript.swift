import ParcCore

/// The console's only script: follows a run's server-sent events and writes them into the page.
/// Without it the page reloads itself (a `<noscript>` refresh) and shows the same rows.
extension ConsolePages {
    /// The words the script writes, from the same catalogue as the pages.
    static var scriptWords: String {
        let outcomes = JSONValue.object(TaskOutcome.allCases.map { ($0.rawValue, .string($0.french)) })
        return JSONValue.object([("outcomes", outcomes), ("tolerated", .string(Portal.toleratedFailure)), ("caption", .string(Portal.recapCaption)),
                                 ("columns", .array((["Appareil"] + Portal.recapColumns).map(JSONValue.string)))]).serialized(indent: nil)
    }

    static let script = "\"use strict\";\nvar parcWords = " + scriptWords + ";\n" + #"""
        document.addEventListener("DOMContentLoaded", function () {
          var section = document.getElementById("direct");
          if (!section || !window.EventSource) { return; }
          var body = document.getElementById("deroulement");
          var status = document.getElementById("etat-direct");
          var recap = document.getElementById("bilan");
          var source = new EventSource(section.getAttribute("data-evenements"));
          var first = true;
          function cell(tag, text) { var c = document.createElement(tag); c.textContent = text; return c; }
          function badge(outcome, changed, ignored) {
            var tolerated = outcome === "failed" && ignored;
            var bad = !tolerated && (outcome === "failed" || outcome === "unreachable");
            var s = document.createElement("span");
            s.className = "etat etat-" + (bad ? "alerte" : changed || tolerated ? "info" : "ok");
            s.textContent = tolerated ? parcWords.tolerated : parcWords.outcomes[changed && !bad ? "changed" : outcome] || outcome;
            return s;
          }
          function row(host, task, outcome, changed, ignored, message) {
            if (first) { body.textContent = ""; first = false; }
            var tr = document.createElement("tr");
            var th = cell("th", host); th.scope = "row"; tr.appendChild(th);
            tr.appendChild(cell("td", task));
            var td = document.createElement("td"); td.appendChild(badge(outcome, changed, ignored)); tr.appendChild(td);
            tr.appendChild(cell("td", message || ""));
            body.appendChild(tr);
          }
          function two(n) { return (n < 10 ? "0" : "") + n; }
          function when(ms) {
            var parts = {};
            new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit",
                                               hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
              .formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = p.value; });
            return parts.day + "/" + parts.month + "/" + parts.year + " à " + parts.hour + "h" + parts.minute;
          }
          function outcomeBadge(d) {
            var s = document.createElement("span");
            var text = d.aborted ? "arrêtée avant la fin" : d.exitCode === 0 ? "réussie" : d.exitCode === 4 ? "appareils injoignables" : "en échec";
            s.className = "etat etat-" + (d.exitCode === 0 && !d.aborted ? "ok" : "alerte");
            s.textContent = text;
            return s;
          }
          source.addEventListener("start", function () { if (first) { body.textContent = ""; first = false; } });
          source.addEventListener("task", function (e) {
            var d = JSON.parse(e.data);
            row(d.host, d.task + (d.item ? " (" + d.item + ")" : ""), d.outcome, d.changed, d.ignored, d.messageFr || d.message);
          });
          source.addEventListener("unreachable", function (e) {
            var d = JSON.parse(e.data);
            row(d.host, "connexion", "unreachable", false, false, d.messageFr || d.message);
          });
          source.addEventListener("note", function (e) { var d = JSON.parse(e.data); status.textContent = d.textFr || d.text; });
          source.addEventListener("recap", function (e) {
            var d = JSON.parse(e.data);
            source.close();
            status.textContent = "Terminée" + (d.aborted ? " (arrêtée : " + d.aborted + ")" : "") + " — code de sortie " + d.exitCode + ".";
            // The header agrees with the status line: its end and its result, as the recorded page shows them.
            var end = document.getElementById("fin-execution");
            if (end) { end.textContent = when(d.at); }
            var result = document.getElementById("resultat-execution");
            if (result) { result.textContent = ""; result.appendChild(outcomeBadge(d)); }
            var wrap = document.createElement("div"); wrap.className = "tableau";
            var table = document.createElement("table"); table.id = "bilan-tableau";
            var title = document.createElement("h2"); title.textContent = "Bilan par appareil"; recap.appendChild(title);
            table.appendChild(cell("caption", parcWords.caption));
            var head = document.createElement("thead"); var hr = document.createElement("tr");
            parcWords.columns.forEach(function (h) { var c = cell("th", h); c.scope = "col"; hr.appendChild(c); });
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
