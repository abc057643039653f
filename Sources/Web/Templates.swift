import Mustache
import ParcCore

/// The portal's templates (Mustache, hummingbird-project/swift-mustache): the page's layout and
/// the parts every page is made of — tables, identity blocks, form fields. `{{value}}` is
/// escaped (`&`, `<`, `>`, quotes); only `{{{markup}}}` is not, and it is given only markup made
/// by a template or as ``SafeHTML`` (a table's rows, a cell's value, a page's body). Kept in the
/// binary (no folder to ship or to lose).
enum Templates {
    static let layout = """
        <!DOCTYPE html>
        <html lang="fr">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} — parc</title>
        <link rel="stylesheet" href="/static/parc.css">
        {{#refreshNoScript}}<noscript><meta http-equiv="refresh" content="{{.}}"></noscript>
        {{/refreshNoScript}}{{#refresh}}<meta http-equiv="refresh" content="{{.}}">
        {{/refresh}}{{#script}}<script src="/static/console.js" defer></script>
        {{/script}}</head>
        <body>
        <a class="evitement" href="#contenu">Aller au contenu</a>
        <header class="entete"><p class="marque"><a href="/">parc</a> <span>Équipements numériques des écoles</span></p>
        {{#viewer}}<nav aria-label="Navigation principale"><ul>{{#navigation}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/navigation}}</ul></nav>
        <form class="session" method="post" action="/deconnexion"><p>Connecté : {{who}}</p>{{#csrf}}<input type="hidden" name="csrf" value="{{.}}">{{/csrf}}<button type="submit">Se déconnecter</button></form>
        {{/viewer}}</header>
        <main id="contenu" tabindex="-1">
        <h1>{{title}}</h1>
        {{#alert}}<div class="erreurs" role="alert"><p>{{.}}</p></div>
        {{/alert}}{{#notice}}<p class="avis" role="status">{{.}}</p>
        {{/notice}}{{{body}}}</main>
        <footer class="pied"><p>parc — inventaire des équipements acquis par le groupement Fus@é. En cas de question, contactez votre technicien.</p></footer>
        </body>
        </html>

        """

    /// A table with its caption, column headers and, when asked, a header cell first in each row.
    static let table = """
        <div class="tableau"><table><caption>{{caption}}</caption><thead><tr>{{#header}}<th scope="col"{{#numeric}} class="n"{{/numeric}}>{{label}}</th>{{/header}}</tr></thead><tbody>{{{rows}}}</tbody></table></div>

        """

    /// An identity block: label → value.
    static let facts = """
        <dl class="fiche">{{#pairs}}<div><dt>{{label}}</dt><dd{{#id}} id="{{.}}"{{/id}}>{{{value}}}</dd></div>{{/pairs}}</dl>

        """

    /// A form field with its label, help and error tied to it.
    static let field = """
        <div class="champ"><label for="{{id}}">{{label}}</label>{{#help}}<span class="aide" id="{{id}}-aide">{{.}}</span>{{/help}}{{#error}}<span class="erreur" id="{{id}}-erreur">{{.}}</span>{{/error}}{{#select}}<select{{> attributes}}>{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/options}}</select>{{/select}}{{#textarea}}<textarea{{> attributes}} rows="5">{{value}}</textarea>{{/textarea}}{{#input}}<input type="{{type}}"{{> attributes}}{{#shown}} value="{{value}}"{{/shown}}>{{/input}}</div>

        """

    static let attributes = #" id="{{id}}" name="{{name}}"{{#required}} required{{/required}}{{#maxLength}} maxlength="{{.}}"{{/maxLength}}{{#autocomplete}} autocomplete="{{.}}"{{/autocomplete}}{{#invalid}} aria-invalid="true"{{/invalid}}{{#describedBy}} aria-describedby="{{.}}"{{/describedBy}}"#

    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [("layout", layout), ("table", table), ("facts", facts), ("field", field), ("attributes", attributes)] {
            // A template of parc's own that does not parse is a bug found by every test.
            try! library.register(text, named: name)
        }
        return library
    }()

    /// `name` rendered with `context`.
    static func render(_ name: String, _ context: [String: Any]) -> SafeHTML {
        SafeHTML(written: library.render(context, withTemplate: name) ?? "")
    }
}
