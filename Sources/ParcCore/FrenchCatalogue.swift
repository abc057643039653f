import Foundation

/// The French sentence of each of parc's messages, keyed by its English text (`%1`, `%2`… where
/// the values go; see ``Message``). One catalogue for every front end: the web writes these, the
/// command line too when `LANG` is French. `FrenchCatalogueTests` fails when a message of the
/// sources has no sentence here.
public enum FrenchCatalogue {
    public static let entries: [String: String] = [
        "%1: become_method = %2: parc becomes root with sudo only; remove the setting or set it to sudo":
            "%1 : become_method = %2 : parc ne devient root qu'avec sudo ; retirez ce réglage ou mettez-le à sudo",
        "%1: inventory names %2 sources; parc reads one inventory file: give it with -i":
            "%1 : inventory nomme %2 sources ; parc lit un seul fichier d'inventaire : donnez-le avec -i",
        "%1: private_key_file = %2: no such file parc can read":
            "%1 : private_key_file = %2 : parc ne peut lire aucun fichier à cet endroit",
        "%1 '%2' changed since version %3 (it is at version %4 now); nothing was written: %5":
            "la fiche %1 « %2 » a changé depuis sa version %3 (elle en est à la version %4) ; rien n'a été écrit : %5",
        "%1 '%2' is already used by %3; a %4's %5 must be unique (check for a typing mistake, or edit the existing record)":
            "%1 « %2 » est déjà utilisé par %3 ; chaque %4 a son propre %5 (vérifiez la saisie, ou modifiez la fiche existante)",
        "%1 '%2': %3":
            "%1 « %2 » : %3",
        "%1 already belongs to device %2":
            "%1 appartient déjà au matériel %2",
        "%1 answered %2 with what this parc cannot read (%3); are parc and the server the same version?":
            "%1 a répondu à %2 par ce que ce parc ne sait pas lire (%3) ; parc et le serveur ont-ils la même version ?",
        "%1 as %2 (%3, host key %4)":
            "%1 sous le nom %2 (%3, clé d'hôte %4)",
        "%1 as %2 (%3, host key %4, renamed)":
            "%1 sous le nom %2 (%3, clé d'hôte %4, renommé)",
        "%1 can be read by others (mode %2): chmod 600 %3, or parc logout and log in again":
            "%1 peut être lu par d'autres (mode %2) : chmod 600 %3, ou déconnectez-vous et reconnectez-vous",
        "%1 could not send the packets: %2":
            "%1 n'a pas pu envoyer les paquets : %2",
        "%1 device(s) are still in it":
            "%1 matériel(s) s'y trouvent encore",
        "%1 device(s) came from it":
            "%1 matériel(s) en viennent",
        "%1 does not do %2 for this account (technicians and administrators only; administrators for accounts), or is an older parc":
            "%1 ne fait pas %2 pour ce compte (techniciens et administrateurs seulement ; administrateurs pour les comptes), ou c'est un parc plus ancien",
        "%1 does not take this token (%2): %3":
            "%1 n'accepte pas ce jeton (%2) : %3",
        "%1 has neither wakeonlan nor etherwake: install one there (apt install wakeonlan), or use --via with another device":
            "%1 n'a ni wakeonlan ni etherwake : installez l'un des deux (apt install wakeonlan), ou passez par un autre appareil",
        "%1 has no such MAC address; `parc device show %2` lists them":
            "%1 n'a pas cette adresse MAC ; sa fiche liste les siennes",
        "%1 is a %2, not a cart":
            "%1 est un %2, pas une classe mobile",
        "%1 is a %2, not a cart; list carts with `parc cart list`":
            "%1 est un %2, pas une classe mobile ; voyez la liste des classes mobiles",
        "%1 is a cart that still holds devices; empty it first":
            "%1 est une classe mobile qui contient encore des appareils ; videz-la d'abord",
        "%1 is already in the inventory; use --update to update it":
            "%1 est déjà dans l'inventaire ; cochez « mettre à jour » pour le modifier",
        "%1 is already on line %2 of this file":
            "%1 figure déjà à la ligne %2 de ce fichier",
        "%1 is not a calendar day":
            "le %1 n'existe pas au calendrier",
        "%1 is not parc's list of servers (%2); remove it and log in again":
            "%1 n'est pas la liste des serveurs de parc (%2) ; supprimez-le et reconnectez-vous",
        "%1 months from when? The order has no delivery date: give one (parc order edit NUMBER --delivered DATE) or --delivered DATE":
            "%1 mois à partir de quand ? La commande n'a pas de date de livraison : renseignez-la d'abord",
        "%1 order(s) were placed under it":
            "%1 commande(s) ont été passées sur ce lot",
        "%1 refused the token (%2): parc login %3 again":
            "%1 a refusé le jeton (%2) : reconnectez-vous avec parc login %3",
        "%1 refused: %2%3":
            "%1 a refusé : %2%3",
        "%1: %2":
            "%1 : %2",
        "%1: HOST KEY CHANGED: pinned %2, device shows %3. Another machine may be answering at this address, or the device was reinstalled; check before re-pinning (parc device edit DEVICE --host-key '')":
            "%1 : LA CLÉ D'HÔTE A CHANGÉ : enregistrée %2, l'appareil montre %3. Une autre machine répond peut-être à cette adresse, ou l'appareil a été réinstallé ; vérifiez avant d'enregistrer la nouvelle clé",
        "%1: HTTP %2 %3":
            "%1 : HTTP %2 %3",
        "%1: authentication as %2 failed (%3)":
            "%1 : la connexion en tant que %2 a été refusée (%3)",
        "%1: connection failure (%2)":
            "%1 : échec de la connexion (%2)",
        "%1: could not become root with sudo (%2); check the become password, or that the user may use sudo":
            "%1 : impossible de passer root avec sudo (%2) ; vérifiez le mot de passe sudo, ou que le compte a droit à sudo",
        "%1: no answer to %2 within %3 s; the device may be off or the network slow (raise --timeout)":
            "%1 : pas de réponse (%2) en %3 s ; l'appareil est peut-être éteint ou le réseau lent",
        "%1: the connection dropped (%2); the device went off or left the network, its remaining work is pending":
            "%1 : la connexion a été coupée (%2) ; l'appareil s'est éteint ou a quitté le réseau, le reste de son travail est en attente",
        "%1: the device gave no answer within %2 s (a command that never ends, or a stalled device); its remaining work was not done":
            "%1 : l'appareil n'a pas répondu en %2 s (une commande qui ne finit pas, ou un appareil bloqué) ; le reste de son travail n'a pas été fait",
        "%1: unknown host key %2; check it on the device (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then connect with --host-key-policy accept-new to pin it":
            "%1 : clé d'hôte inconnue %2 ; vérifiez-la sur l'appareil (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) avant de l'accepter",
        "%1: unreachable (%2); check that the device is on and on the network, and its address and port in the inventory":
            "%1 : injoignable (%2) ; vérifiez que l'appareil est allumé et sur le réseau, et son adresse et son port dans l'inventaire",
        "%1; MAC not recorded: %2 — see parc reconcile":
            "%1 ; adresse MAC non enregistrée : %2 — voyez le rapprochement",
        "%1; add one with `parc room add %2 NAME`":
            "%1 ; ajoutez-en une à l'école %2",
        "%1; nothing was restored":
            "%1 ; rien n'a été restauré",
        "%1; nothing was written":
            "%1 ; rien n'a été écrit",
        "'%1' is not a playbook of %2 (give its file name, e.g. baseline.yml)":
            "« %1 » n'est pas un playbook de %2 (donnez son nom de fichier, par exemple baseline.yml)",
        "'%1' is not a variable name (letters, digits, _)":
            "« %1 » n'est pas un nom de variable (lettres, chiffres, _)",
        "'%1' is not an IPv4 address":
            "« %1 » n'est pas une adresse IPv4",
        "'%1' is not the http(s) URL of a parc server (e.g. https://parc.example.fr)":
            "« %1 » n'est pas l'adresse http(s) d'un serveur parc (par exemple https://parc.example.fr)",
        "'%1' names several %2 (%3); %4":
            "« %1 » désigne plusieurs %2 (%3) ; %4",
        "'%1': %2":
            "« %1 » : %2",
        "--ask-vars %1: set PARC_ASK_%2 %3":
            "--ask-vars %1 : définissez PARC_ASK_%2 %3",
        "--limit: '%1' is neither a group nor a host of %2":
            "--limit : « %1 » n'est ni un groupe ni un appareil de %2",
        "--mail-from: %1":
            "--mail-from : %1",
        "--map names an unknown field '%1'; fields are %2":
            "--map nomme un champ inconnu « %1 » ; les champs sont %2",
        "--smtp takes smtp://HOST[:PORT] (the machine's mail server, e.g. smtp://127.0.0.1:25), not '%1'":
            "--smtp prend smtp://HÔTE[:PORT] (le serveur de messagerie de la machine, par exemple smtp://127.0.0.1:25), pas « %1 »",
        "--via %1: that device has no address to reach it":
            "--via %1 : cet appareil n'a pas d'adresse pour le joindre",
        "--via names one device, '%1' names %2":
            "--via désigne un seul appareil, « %1 » en désigne %2",
        "--wake wakes parc's devices (their MACs are in the inventory), not those of -i":
            "--wake réveille les appareils de parc (leurs adresses MAC sont dans l'inventaire), pas ceux de -i",
        "-e @%1: cannot read it (%2)":
            "-e @%1 : impossible de le lire (%2)",
        "-e @%1: it belongs to another user (uid %2); use a file of your own":
            "-e @%1 : il appartient à un autre utilisateur (uid %2) ; utilisez un fichier à vous",
        "-e @%1: other users may read or change it (mode %2); it may hold secrets: chmod 600 %3":
            "-e @%1 : d'autres utilisateurs peuvent le lire ou le modifier (mode %2) ; il peut contenir des secrets : chmod 600 %3",
        "-e takes key=value or @file.yml, not '%1'":
            "-e prend clé=valeur ou @fichier.yml, pas « %1 »",
        "WeasyPrint could not make the PDF: %1":
            "WeasyPrint n'a pas pu faire le PDF : %1",
        "`true` exited with %1":
            "« true » a fini avec le code %1",
        "a %1 is not a computer in GLPI's inventory format; enter it in GLPI by hand if needed":
            "un %1 n'est pas un ordinateur au sens de l'inventaire GLPI ; saisissez-le dans GLPI à la main si besoin",
        "a MAC address is 6 hexadecimal bytes, e.g. 3c:52:82:1a:2b:3c":
            "une adresse MAC s'écrit en 6 octets hexadécimaux, par exemple 3c:52:82:1a:2b:3c",
        "a MAC address is six bytes, e.g. 8c:16:45:3a:10:99":
            "une adresse MAC s'écrit en six octets, par exemple 8c:16:45:3a:10:99",
        "a PDF needs WeasyPrint: install it (apt-get install weasyprint), or print the HTML page":
            "un PDF demande WeasyPrint : installez-le (apt-get install weasyprint), ou imprimez la page HTML",
        "a SIREN is 9 digits, e.g. 215705112":
            "un SIREN a 9 chiffres, par exemple 215705112",
        "a UAI is 7 digits followed by a letter, e.g. 0571234Q; copy it from the school's record in the Annuaire de l'éducation":
            "un UAI s'écrit avec 7 chiffres suivis d'une lettre, par exemple 0571234Q ; recopiez-le depuis la fiche de l'école dans l'Annuaire de l'éducation",
        "a cart cannot go in another cart; give --school and --room":
            "une classe mobile ne va pas dans une autre ; donnez une école et une salle",
        "a cart cannot hold itself":
            "une classe mobile ne peut pas se contenir elle-même",
        "a commune account belongs to one member: add --member SLUG":
            "un compte de commune appartient à un membre : indiquez lequel",
        "a date is written YYYY-MM-DD (e.g. 2024-09-23) or DD/MM/YYYY":
            "une date s'écrit JJ/MM/AAAA (par exemple 23/09/2024) ou AAAA-MM-JJ",
        "a device in a cart is where the cart is: give the cart or the room, not both":
            "un matériel dans une classe mobile est là où elle est : donnez la classe mobile ou la salle, pas les deux",
        "a device is either in a room or in a cart, not both":
            "un matériel est soit dans une salle, soit dans une classe mobile, pas les deux",
        "a device is put in a room of the school: add the room's name":
            "un matériel est rangé dans une salle de l'école : ajoutez le nom de la salle",
        "a group name is lower-case letters, digits and _, starting with a letter (e.g. salle_info_2)":
            "un nom de groupe s'écrit en minuscules, chiffres et _, en commençant par une lettre (par exemple salle_info_2)",
        "a host key is written like OpenSSH does: ssh-ed25519 AAAAC3Nza…":
            "une clé d'hôte s'écrit comme OpenSSH l'écrit : ssh-ed25519 AAAAC3Nza…",
        "a host name is letters, digits and dashes (no accents, no spaces), e.g. norroy-cm2-01":
            "un nom réseau s'écrit en lettres, chiffres et tirets (sans accents ni espaces), par exemple norroy-cm2-01",
        "a loan ends today or later":
            "un prêt se termine aujourd'hui ou plus tard",
        "a login is 2 to 64 letters, digits, '.', '-', '_' or '@' (e.g. mairie.montigny)":
            "un identifiant fait de 2 à 64 lettres, chiffres, « . », « - », « _ » ou « @ » (par exemple mairie.montigny)",
        "a login name is lower-case letters, digits, _ - and . (at most 32), starting with a letter, e.g. parc":
            "un nom de compte s'écrit en minuscules, chiffres, _ - et . (32 au plus), en commençant par une lettre, par exemple parc",
        "a lot needs a title, e.g. Classes mobiles":
            "un lot a besoin d'un intitulé, par exemple Classes mobiles",
        "a lot needs its number in the contract, e.g. 2":
            "un lot a besoin de son numéro dans le marché, par exemple 2",
        "a lot with orders stays in the inventory; edit its title instead":
            "un lot qui a des commandes reste dans l'inventaire ; modifiez plutôt son intitulé",
        "a member is a commune, sivos or epci":
            "un membre est une commune, un SIVOS ou un EPCI",
        "a member needs a name, e.g. Norroy-le-Veneur":
            "un membre a besoin d'un nom, par exemple Norroy-le-Veneur",
        "a member needs its SIREN (or, for a commune, its INSEE code)":
            "un membre a besoin de son SIREN (ou, pour une commune, de son code INSEE)",
        "a name is 1 to 100 printable characters (e.g. Mme Lambert)":
            "un nom fait de 1 à 100 caractères imprimables (par exemple Mme Lambert)",
        "a newer parc wrote this backup; update parc to restore it. Nothing was restored":
            "une version plus récente de parc a écrit cette sauvegarde ; mettez parc à jour pour la restaurer. Rien n'a été restauré",
        "a password is sent as its bcrypt hash":
            "un mot de passe est envoyé sous forme d'empreinte bcrypt",
        "a password needs at least 10 characters":
            "un mot de passe a au moins 10 caractères",
        "a password takes at most 72 bytes":
            "un mot de passe fait au plus 72 octets",
        "a pattern term is empty; write e.g. school_0572113m:&kind_laptop:!lab-03":
            "un terme du motif est vide ; écrivez par exemple school_0572113m:&kind_laptop:!lab-03",
        "a phone number has 10 digits at least (spaces, dots, dashes allowed), e.g. 03 87 00 00 00":
            "un numéro de téléphone a au moins 10 chiffres (espaces, points et tirets acceptés), par exemple 03 87 00 00 00",
        "a port is a number, e.g. 22":
            "un port est un nombre, par exemple 22",
        "a port is between 1 and 65535 (SSH listens on 22)":
            "un port est compris entre 1 et 65535 (SSH écoute sur le 22)",
        "a price cannot be negative":
            "un prix ne peut pas être négatif",
        "a quote (\") opens a cell on this line and is never closed, so the rest of the file would be read as one cell; close the quote or remove it":
            "un guillemet (\") ouvre une cellule sur cette ligne et n'est jamais refermé : tout le reste du fichier serait lu comme une seule cellule ; fermez le guillemet ou retirez-le",
        "a relay serves the devices of its schools: add --school UAI (once per school)":
            "un relais sert les appareils de ses écoles : indiquez-les par leur UAI",
        "a role is one of %1":
            "un rôle est parmi %1",
        "a room is named within its school: add --school UAI":
            "une salle se nomme dans son école : indiquez aussi l'école",
        "a room needs a name, e.g. CM2 or Salle informatique":
            "une salle a besoin d'un nom, par exemple CM2 ou Salle informatique",
        "a school needs a name, e.g. École élémentaire Jean Moulin":
            "une école a besoin d'un nom, par exemple École élémentaire Jean Moulin",
        "a serial number has no spaces; check for two serials pasted together":
            "un numéro de série n'a pas d'espace ; vérifiez que deux numéros n'ont pas été collés ensemble",
        "a slug is lower-case letters, digits and dashes, e.g. %1":
            "un identifiant s'écrit en minuscules, chiffres et tirets, par exemple %1",
        "a variable name is letters, digits and _":
            "un nom de variable s'écrit en lettres, chiffres et _",
        "a warranty in months is a whole number from 1 to 240, e.g. 36":
            "une garantie en mois est un nombre entier de 1 à 240, par exemple 36",
        "add --member to say whose order it is":
            "précisez de quel membre est la commande",
        "an INSEE commune code is 5 characters, e.g. 57511 (Norroy-le-Veneur) or 2A004":
            "un code INSEE de commune a 5 caractères, par exemple 57511 (Norroy-le-Veneur) ou 2A004",
        "an account '%1' already exists":
            "un compte « %1 » existe déjà",
        "an address is an IPv4 address (10.57.1.21), an IPv6 address or a host name (pc-cm2-01.ecole.local)":
            "une adresse est une adresse IPv4 (10.57.1.21), une adresse IPv6 ou un nom d'hôte (pc-cm2-01.ecole.local)",
        "an amount cannot be negative":
            "un montant ne peut pas être négatif",
        "an amount in euros is written like 1234.56 or 1 234,56":
            "un montant en euros s'écrit comme 1 234,56 ou 1234.56",
        "an e-mail address is name@domain (e.g. secretariat@mairie-norroy.fr)":
            "une adresse électronique s'écrit nom@domaine (par exemple secretariat@mairie-norroy.fr)",
        "an order needs its purchase-order number":
            "une commande a besoin de son numéro de bon de commande",
        "an order with devices stays in the inventory (`parc device list --order %1`)":
            "une commande qui a des matériels reste dans l'inventaire",
        "another parc kept the inventory busy for too long; nothing was changed, try again":
            "un autre parc a occupé l'inventaire trop longtemps ; rien n'a été modifié, recommencez",
        "cancelled by %1":
            "annulée par %1",
        "cannot create its folder (%1); choose another path with --database or PARC_DATABASE":
            "impossible de créer son dossier (%1) ; choisissez un autre emplacement",
        "cannot make the management key %1: %2":
            "impossible de créer la clé de gestion %1 : %2",
        "cannot open a UDP socket: %1":
            "impossible d'ouvrir une socket UDP : %1",
        "cannot open it as a parc inventory (%1); is it an SQLite file written by parc?":
            "impossible de l'ouvrir comme un inventaire de parc (%1) ; est-ce bien un fichier SQLite écrit par parc ?",
        "cannot put the backup in place (%1); no backup was written":
            "impossible de mettre la sauvegarde en place (%1) ; aucune sauvegarde n'a été écrite",
        "cannot reach %1: %2":
            "impossible de joindre %1 : %2",
        "cannot read %1":
            "impossible de lire %1",
        "cannot read %1: %2":
            "impossible de lire %1 : %2",
        "cannot read the CSV here (%1); check for an unclosed quote":
            "le CSV est illisible ici (%1) ; cherchez un guillemet non refermé",
        "cannot read the playbook's folder %1":
            "impossible de lire le dossier du playbook %1",
        "cannot remove %1 '%2': %3; %4":
            "impossible de retirer la fiche %1 « %2 » : %3 ; %4",
        "cannot replace %1: %2":
            "impossible de remplacer %1 : %2",
        "cannot write %1":
            "impossible d'écrire %1",
        "check the UAI, or list schools with `parc school list`":
            "vérifiez l'UAI dans la liste des écoles",
        "choose devices: a pattern, or devices picked in the list":
            "choisissez des appareils : un motif, ou des appareils cochés dans la liste",
        "condition false":
            "condition fausse",
        "creating devices needs an order or a cart, to know where they come from":
            "créer des appareils demande une commande ou une classe mobile, pour savoir d'où ils viennent",
        "database %1: %2":
            "base %1 : %2",
        "device %1 has an address that is not an IP address or a host name; correct it (parc device edit %2 --address …) before exporting":
            "le matériel %1 a une adresse qui n'est ni une adresse IP ni un nom d'hôte ; corrigez-la avant l'export",
        "every device needs its serial number (on the label under the device or on the delivery note)":
            "chaque matériel a besoin de son numéro de série (sur l'étiquette sous l'appareil ou sur le bon de livraison)",
        "give a group or host name, or `all`":
            "donnez un nom de groupe ou d'appareil, ou « all »",
        "give a live token's number or prefix from `parc token list`":
            "donnez le numéro ou le début d'un jeton encore valable",
        "give its number":
            "donnez son numéro",
        "give its serial or asset tag; search with `parc find TEXT`":
            "donnez son n° de série ou son n° d'inventaire, ou cherchez-le",
        "give its slug, SIREN or INSEE code as `parc member list` shows them":
            "donnez son identifiant, son SIREN ou son code INSEE",
        "give something to look for: a serial, a tag, a MAC, a name":
            "donnez quelque chose à chercher : un n° de série, un n° d'inventaire, une adresse MAC, un nom",
        "give the document a title":
            "donnez un titre au document",
        "give the member's --name":
            "donnez le nom du membre",
        "give the slug instead":
            "donnez plutôt son identifiant",
        "host key %1 not confirmed: nothing done (check it on the device, then confirm it)":
            "clé d'hôte %1 non confirmée : rien n'a été fait (vérifiez-la sur l'appareil, puis confirmez-la)",
        "it cannot be read (check its permissions)":
            "il ne peut pas être lu (vérifiez ses droits)",
        "it cannot be read as a parc inventory (%1); nothing was restored":
            "il ne se lit pas comme un inventaire de parc (%1) ; rien n'a été restauré",
        "it cannot be written (read-only file or disk); nothing was written":
            "il ne peut pas être écrit (fichier ou disque en lecture seule) ; rien n'a été écrit",
        "it has no room yet":
            "elle n'a pas encore de salle",
        "it holds a control character (%1); remove it":
            "il contient un caractère de contrôle (%1) ; retirez-le",
        "it holds a control character (%1); type the value again, on one line":
            "il contient un caractère de contrôle (%1) ; retapez la valeur, sur une seule ligne",
        "it is %1 MB; a document takes at most 20 MB":
            "il fait %1 Mo ; un document fait au plus 20 Mo",
        "it is %1 characters long; this field takes at most %2":
            "il fait %1 caractères ; ce champ en prend %2 au plus",
        "it is a folder":
            "c'est un dossier",
        "it is a folder; name a CSV file in it":
            "c'est un dossier ; donnez un fichier CSV qu'il contient",
        "it is already %1; only an open problem can be accepted":
            "il est déjà %1 ; seul un signalement ouvert peut être pris en charge",
        "it is already closed":
            "il est déjà clos",
        "it is already lent (loan #%1); return it first with parc cart return %2":
            "elle est déjà prêtée (prêt n° %1) ; enregistrez d'abord son retour",
        "it is an SQLite file but not a parc inventory":
            "c'est un fichier SQLite, mais pas un inventaire de parc",
        "it is closed; a follow-up goes on a problem still open":
            "il est clos ; un message de suivi va sur un signalement encore ouvert",
        "it is damaged (SQLite's check says: %1)":
            "il est endommagé (la vérification de SQLite dit : %1)",
        "it is not a PDF; only PDF documents are kept (export it as PDF first)":
            "ce n'est pas un PDF ; seuls les documents PDF sont conservés (exportez-le d'abord en PDF)",
        "it is not a parc inventory (%1)":
            "ce n'est pas un inventaire de parc (%1)",
        "it is not lent (see parc cart loans)":
            "elle n'est pas prêtée",
        "it still has %1 school(s) and %2 order(s)":
            "il a encore %1 école(s) et %2 commande(s)",
        "it still holds %1 device(s)":
            "elle contient encore %1 appareil(s)",
        "it was revoked already":
            "il a déjà été révoqué",
        "it was written by a newer parc (it has changes this parc does not know: %1); this parc may read it but not change it. Update parc":
            "il a été écrit par une version plus récente de parc (avec des changements que celle-ci ne connaît pas : %1) ; cette version peut le lire mais pas le modifier. Mettez parc à jour",
        "it was written by an older parc and needs an upgrade, but the file is read-only; run parc once with write access to it":
            "il a été écrit par une version plus ancienne de parc et doit être mis à jour, mais le fichier est en lecture seule ; lancez parc une fois avec le droit de l'écrire",
        "its folder %1 does not exist; create it first":
            "son dossier %1 n'existe pas ; créez-le d'abord",
        "its rooms: %1":
            "ses salles : %1",
        "key added":
            "clé ajoutée",
        "key present":
            "clé déjà présente",
        "libqrencode could not encode it (too long?)":
            "le code QR n'a pas pu être fabriqué (texte trop long ?)",
        "list an order's funding with `parc funding list ORDER`":
            "voyez les financements de la commande",
        "list carts with `parc cart list`":
            "voyez la liste des classes mobiles",
        "list orders with `parc order list`":
            "voyez la liste des commandes",
        "list rooms with `parc room list`":
            "voyez la liste des salles",
        "list runs with `parc runs list`":
            "voyez la liste des exécutions",
        "list the grouping's lots with `parc lot list`":
            "voyez la liste des lots du groupement",
        "list them with `parc document list`":
            "voyez la liste des documents",
        "list them with `parc problem list`":
            "voyez la liste des signalements",
        "list them with `parc user list`":
            "voyez la liste des comptes",
        "list your groups with `parc group list`, create one with `parc group add NAME`":
            "voyez la liste de vos groupes, ou créez-en un",
        "look at it again (parc device show %1) and redo your change from what it is now":
            "regardez-le de nouveau et refaites votre modification à partir de ce qu'il est maintenant",
        "missing":
            "manquant",
        "missing; a device is put in a room of %1":
            "manquante ; un matériel est rangé dans une salle de l'école %1",
        "missing; add a Type column, give --kind (e.g. --kind laptop), or a designation naming it (ordinateur portable, chariot, ENI…)":
            "manquant ; ajoutez une colonne Type, choisissez le type des appareils, ou une désignation qui le nomme (ordinateur portable, chariot, ENI…)",
        "missing; every device needs its serial number":
            "manquant ; chaque matériel a besoin de son numéro de série",
        "missing; room '%1' needs its school's UAI":
            "manquante ; la salle « %1 » a besoin de l'UAI de son école",
        "move or remove them first (`parc device list --school %1`)":
            "déplacez-les ou retirez-les d'abord",
        "move them first (`parc device list --school %1 --room '%2'`)":
            "déplacez-les d'abord",
        "move them out first (`parc device list --cart %1`)":
            "sortez-les d'abord",
        "names starting with %1 (and all, ungrouped, localhost) are parc's own groups; choose another":
            "les noms commençant par %1 (et all, ungrouped, localhost) sont les groupes de parc ; choisissez-en un autre",
        "no %1 '%2'; %3":
            "%1 « %2 » introuvable ; %3",
        "no address in the inventory":
            "pas d'adresse dans l'inventaire",
        "no answer":
            "pas de réponse",
        "no cart '%1' in the inventory or in this file; add it first (parc cart add) or check the tag":
            "aucune classe mobile « %1 » dans l'inventaire ni dans ce fichier ; ajoutez-la d'abord ou vérifiez son numéro",
        "no column gives it (columns: %1); use --map COLUMN=%2":
            "aucune colonne ne le donne (colonnes : %1)",
        "no column gives the serial number (columns: %1); name it \"N° de série\" or use --map COLUMN=serial":
            "aucune colonne ne donne le numéro de série (colonnes : %1) ; nommez-la « N° de série »",
        "no device has ever had this serial or asset tag; search with `parc find TEXT`":
            "aucun matériel n'a jamais eu ce n° de série ou ce n° d'inventaire ; cherchez-le",
        "no device to onboard: give at least one address":
            "aucun appareil à mettre en service : donnez au moins une adresse",
        "no order '%1'; list orders with parc order list":
            "aucune commande « %1 » ; vérifiez son numéro dans la liste des commandes",
        "no room '%1' in %2 (its rooms: %3); add it with parc room add %4 NAME":
            "pas de salle « %1 » dans l'école %2 (ses salles : %3) ; ajoutez-la d'abord, ou corrigez le nom",
        "no school '%1' (by UAI or name); add it with parc school add, or check the UAI":
            "aucune école « %1 » (par UAI ou par nom) ; ajoutez-la d'abord, ou vérifiez l'UAI",
        "none of its devices has an address any more":
            "aucun de ses appareils n'a plus d'adresse",
        "none yet":
            "aucune pour le moment",
        "not a CSV file (%1)":
            "ce n'est pas un fichier CSV (%1)",
        "not a calendar day":
            "ce jour n'existe pas au calendrier",
        "not logged in to %1: parc login %2 first":
            "pas de connexion à %1 : parc login %2 d'abord",
        "one device has it as serial, another as asset tag: give the serial of the one you mean":
            "un matériel l'a comme n° de série, un autre comme n° d'inventaire : donnez le n° de série de celui que vous voulez",
        "only a commune has an INSEE code; give the %1's SIREN instead":
            "seule une commune a un code INSEE ; donnez plutôt le SIREN de ce membre (%1)",
        "only commune accounts belong to a member; a %1 sees them all":
            "seuls les comptes de commune appartiennent à un membre ; un %1 les voit tous",
        "only laptops and tablets go in a cart; put a %1 in a room":
            "seuls les ordinateurs portables et les tablettes vont dans une classe mobile ; rangez ce matériel (%1) dans une salle",
        "only relay accounts name schools; a %1 account does not":
            "seuls les comptes de relais nomment des écoles ; un compte %1 n'en nomme pas",
        "other records still refer to it":
            "d'autres fiches y font encore référence",
        "pinned %1":
            "clé %1 enregistrée",
        "remove or move them first":
            "retirez-les ou déplacez-les d'abord",
        "remove or reassign them first (`parc school list --member %1`, `parc order list --member %2`)":
            "retirez-les ou rattachez-les à un autre membre d'abord",
        "room '%1' needs its school's UAI":
            "la salle « %1 » a besoin de l'UAI de son école",
        "run %1 goes on in another process: its tasks show when it ends":
            "l'exécution n° %1 se poursuit dans un autre processus : ses tâches s'afficheront à la fin",
        "run %1 was interrupted before it finished":
            "l'exécution n° %1 a été interrompue avant la fin",
        "run %1 was left unfinished: the process running it has ended":
            "l'exécution n° %1 est restée inachevée : le processus qui la menait s'est arrêté",
        "say what is wrong":
            "dites ce qui ne va pas",
        "say what was done (e.g. --done \"screen replaced under warranty\")":
            "dites ce qui a été fait (par exemple « écran remplacé sous garantie »)",
        "say who to call back":
            "dites qui rappeler",
        "sending to %1:%2 failed: %3":
            "l'envoi vers %1:%2 a échoué : %3",
        "serial %1 is not in the inventory: import its delivery note first (parc import devices), or create it (--create)":
            "le n° de série %1 n'est pas dans l'inventaire : importez d'abord son bon de livraison, ou créez-le",
        "the amount incl. tax is lower than the amount excl. tax (%1); were they swapped?":
            "le montant TTC est inférieur au montant HT (%1) ; ont-ils été inversés ?",
        "the backup failed (%1); no backup was written":
            "la sauvegarde a échoué (%1) ; aucune sauvegarde n'a été écrite",
        "the cart must be in the inventory or in the same file":
            "la classe mobile doit être dans l'inventaire ou dans le même fichier",
        "the check digit is wrong (Luhn); check the number on the member's deliberation or on annuaire-entreprises":
            "le chiffre de contrôle est faux (clé de Luhn) ; vérifiez le numéro sur la délibération du membre ou sur l'annuaire des entreprises",
        "the check letter of %1 is %2, not %3; check the UAI for a typing mistake":
            "la lettre de contrôle de %1 est %2, pas %3 ; vérifiez l'UAI (faute de frappe ?)",
        "the delivery (%1) is before the order (%2)":
            "la livraison (%1) est antérieure à la commande (%2)",
        "the device must be in the inventory":
            "le matériel doit être dans l'inventaire",
        "the device reports no firmware serial (DMI): onboard it by hand (parc device edit)":
            "l'appareil ne donne pas de numéro de série matériel (DMI) : mettez-le en service à la main",
        "the disk holding it is full; no backup was written. Free some space and try again":
            "le disque est plein ; aucune sauvegarde n'a été écrite. Libérez de la place et recommencez",
        "the disk holding it is full; nothing was written (the change was undone whole). Free some space and try again":
            "le disque est plein ; rien n'a été écrit (la modification a été entièrement annulée). Libérez de la place et recommencez",
        "the disk holding it is full; nothing was written. Free some space and try again":
            "le disque est plein ; rien n'a été écrit. Libérez de la place et recommencez",
        "the file exists; give another name, or --overwrite to replace it":
            "le fichier existe ; donnez un autre nom, ou --overwrite pour le remplacer",
        "the file is read-only for this user (%1)":
            "le fichier est en lecture seule pour cet utilisateur (%1)",
        "the initial user is missing":
            "le compte initial manque",
        "the key data is a %1 key, not %2":
            "les données de la clé sont celles d'une clé %1, pas %2",
        "the management key %1 has no public half (%2.pub)":
            "la clé de gestion %1 n'a pas de partie publique (%2.pub)",
        "the playbook's folder %1 holds more than %2 MiB: a relay takes at most that; keep large files elsewhere":
            "le dossier du playbook %1 dépasse %2 Mio : un relais n'en prend pas plus ; rangez les gros fichiers ailleurs",
        "the port is 1 to 65535, the stagger 0 to 10000 ms":
            "le port va de 1 à 65535, l'étalement de 0 à 10000 ms",
        "the restore failed (%1); the inventory as it was is in %2: restore that":
            "la restauration a échoué (%1) ; l'inventaire tel qu'il était se trouve dans %2 : restaurez-le",
        "the run needs sudo's password: start the relay with PARC_BECOME_PASSWORD set":
            "l'exécution a besoin du mot de passe sudo : lancez le relais avec PARC_BECOME_PASSWORD",
        "the server did not say the run's id: %1":
            "le serveur n'a pas donné le numéro de l'exécution : %1",
        "the server stopped telling run %1 before its end: parc --server %2 runs show %3":
            "le serveur a cessé de raconter l'exécution n° %1 avant sa fin : parc --server %2 runs show %3",
        "the work names a file outside its folder: %1":
            "le travail nomme un fichier hors de son dossier : %1",
        "there is no inventory here. Check --database or PARC_DATABASE (%1 gave this path), or create it with `parc init` (`parc init --sample` for the sample data)":
            "il n'y a pas d'inventaire ici. Vérifiez --database ou PARC_DATABASE (%1 a donné ce chemin), ou créez-le avec « parc init » (« parc init --sample » pour les données d'exemple)",
        "there is no such file; check its name":
            "ce fichier n'existe pas ; vérifiez son nom",
        "there is no such file; check its name and folder":
            "ce fichier n'existe pas ; vérifiez son nom et son dossier",
        "this group already exists":
            "ce groupe existe déjà",
        "this is a spreadsheet (Excel or LibreOffice), not a CSV file; open it and save it as \"CSV UTF-8\" (Excel: Enregistrer sous → CSV UTF-8; LibreOffice: Enregistrer sous → Texte CSV, jeu de caractères Unicode (UTF-8)), then import that file":
            "c'est un classeur (Excel ou LibreOffice), pas un fichier CSV ; ouvrez-le et enregistrez-le en « CSV UTF-8 » (Excel : Enregistrer sous → CSV UTF-8 ; LibreOffice : Enregistrer sous → Texte CSV, jeu de caractères Unicode (UTF-8)), puis importez ce fichier",
        "this is the inventory itself; give another file to write the backup to":
            "c'est l'inventaire lui-même ; donnez un autre fichier pour la sauvegarde",
        "this is the inventory itself; name a backup file":
            "c'est l'inventaire lui-même ; donnez un fichier de sauvegarde",
        "two columns give the %1: '%2' and '%3'; drop one or --map it elsewhere":
            "deux colonnes donnent le champ %1 : « %2 » et « %3 » ; retirez-en une ou associez-la à un autre champ",
        "unknown kind; use one of: %1":
            "type inconnu ; choisissez parmi : %1",
        "unknown place":
            "emplacement inconnu",
        "unknown status; use one of: %1":
            "état inconnu ; choisissez parmi : %1",
        "unreachable":
            "injoignable",
        "write the follow-up (e.g. \"part ordered, back next week\")":
            "écrivez le message de suivi (par exemple « pièce commandée, retour la semaine prochaine »)",
    ]

    /// The catalogue's sentences with values, as patterns that find them in a stored English
    /// text (a run's message written before it was shown), the longest first, each with its
    /// longest fixed words: a text without them is not tried against the pattern.
    static let storedPatterns: [(regex: NSRegularExpression, key: String, words: String)] = entries.keys.filter { $0.contains("%1") }
        .sorted { $0.count > $1.count }
        .compactMap { key in
            let words = key.split(separator: /%%|%\d+/).map(String.init).max { $0.count < $1.count } ?? ""
            // A sentence that is only punctuation around its values ("%1: %2") would take any text
            // for one of parc's own, and change a device's answer: not a pattern.
            guard words.filter(\.isLetter).count >= 4 else { return nil }
            var pattern = "^"
            var i = key.startIndex
            while i < key.endIndex {
                let c = key[i]
                let next = key.index(after: i)
                if c == "%", next < key.endIndex, key[next] == "%" { pattern += "%"; i = key.index(after: next); continue }
                if c == "%", next < key.endIndex, key[next].isNumber {
                    var end = next
                    while end < key.endIndex, key[end].isNumber { end = key.index(after: end) }
                    pattern += "(.+?)"
                    i = end
                    continue
                }
                pattern += NSRegularExpression.escapedPattern(for: String(c))
                i = next
            }
            return (try? NSRegularExpression(pattern: pattern + "$", options: [.dotMatchesLineSeparators])).map { ($0, key, words) }
        }

    /// The beginnings of the system's and libssh2's words for a failure, in French (the rest,
    /// an address or a port, follows as it is).
    public static let systemReasons: [(String, String)] = [
        ("connection refused at", "connexion refusée par"), ("No route to host", "aucune route vers l'appareil"),
        ("Network is unreachable", "réseau injoignable"), ("Connection timed out", "délai de connexion dépassé"),
        ("Connection reset by peer", "connexion coupée par l'appareil"), ("cannot resolve", "nom introuvable :"),
        ("SSH handshake failed:", "échec de l'établissement de la session SSH :"), ("no address", "aucune adresse"),
        ("incorrect password", "mot de passe incorrect"), ("Host is down", "appareil éteint"),
    ]

    /// The C library's words for a failure, wherever they stand in a cause.
    public static let systemPhrases: [(String, String)] = [
        ("Name or service not known", "nom inconnu"), ("Temporary failure in name resolution", "résolution du nom impossible pour le moment"),
        ("No address associated with hostname", "aucune adresse pour ce nom"), ("Connection refused", "connexion refusée"),
        ("No route to host", "aucune route vers l'appareil"), ("Network is unreachable", "réseau injoignable"),
        ("Connection timed out", "délai de connexion dépassé"), ("Permission denied", "permission refusée"),
    ]

    /// Fields' names, in a sentence (the labels of the portal's forms).
    public static let fields: [String: String] = [
        "serial": "n° de série", "assetTag": "n° d'inventaire", "kind": "type", "manufacturer": "marque", "model": "modèle",
        "designation": "désignation", "status": "état", "school": "école", "room": "salle", "cart": "classe mobile", "place": "emplacement",
        "order": "commande", "member": "membre", "lot": "lot", "mac": "adresse MAC", "macs": "adresses MAC", "hostname": "nom réseau",
        "address": "adresse réseau", "sshPort": "port SSH", "sshUser": "compte SSH", "warrantyEnd": "fin de garantie",
        "warrantyMonths": "garantie en mois", "purchasePrice": "prix TTC", "priceExclTax": "prix HT", "notes": "notes",
        "hostKey": "clé d'hôte SSH", "uai": "UAI", "siren": "SIREN", "insee": "code INSEE", "name": "nom", "slug": "identifiant",
        "number": "numéro", "title": "intitulé", "city": "ville", "file": "fichier", "row": "ligne", "delivered": "livraison",
        "deliveredOn": "date de livraison", "orderedOn": "date de commande", "amountInclTax": "montant TTC", "amountExclTax": "montant HT",
        "requested": "montant demandé", "granted": "montant accordé", "funder": "financeur", "label": "libellé", "login": "identifiant",
        "password": "mot de passe", "role": "rôle", "email": "adresse électronique", "description": "description",
        "contactName": "personne à rappeler", "contactPhone": "téléphone", "since": "date de début", "resolution": "intervention",
        "text": "texte", "content": "contenu", "pattern": "motif", "group": "groupe", "variable": "variable", "until": "date de retour",
        "deliberationNumber": "n° de délibération", "deliberationDate": "date de délibération", "conventionDate": "date de convention",
        "state": "état du signalement", "outcome": "issue", "token": "jeton",
    ]

    /// Records' names, in a sentence.
    public static let entities: [String: String] = [
        "device": "matériel", "school": "école", "room": "salle", "member": "membre", "order": "commande", "lot": "lot",
        "cart": "classe mobile", "account": "compte", "token": "jeton", "problem": "signalement", "document": "document",
        "group": "groupe", "run": "exécution", "funding line": "ligne de financement", "loan": "prêt", "relay": "relais",
        "devices": "matériels", "schools": "écoles", "rooms": "salles", "members": "membres", "orders": "commandes", "lots": "lots",
        "carts": "classes mobiles", "accounts": "comptes", "problems": "signalements", "groups": "groupes", "inventory": "inventaire",
    ]
}
