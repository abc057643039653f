import Foundation
import GRDB

/// The inventory's schema. Migrations are append-only: a migration that has shipped is never
/// modified; a change is a new migration.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: members, schools, rooms, lots, orders, funding, devices, audit log") { db in
            try db.execute(sql: """
                CREATE TABLE member (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('commune', 'sivos', 'epci')),
                    name TEXT NOT NULL CHECK (name <> ''),
                    slug TEXT NOT NULL UNIQUE CHECK (slug <> ''),
                    siren TEXT UNIQUE CHECK (siren IS NULL OR length(siren) = 9),
                    insee TEXT UNIQUE CHECK (insee IS NULL OR length(insee) = 5),
                    deliberationNumber TEXT,
                    deliberationDate TEXT,
                    prefectureReceipt TEXT,
                    conventionDate TEXT,
                    conventionSignatory TEXT,
                    CHECK (siren IS NOT NULL OR insee IS NOT NULL)
                );
                CREATE TABLE school (
                    id INTEGER PRIMARY KEY,
                    uai TEXT NOT NULL UNIQUE CHECK (length(uai) = 8),
                    name TEXT NOT NULL CHECK (name <> ''),
                    memberId INTEGER NOT NULL REFERENCES member(id) ON DELETE RESTRICT,
                    city TEXT
                );
                CREATE INDEX school_memberId ON school(memberId);
                CREATE TABLE room (
                    id INTEGER PRIMARY KEY,
                    schoolId INTEGER NOT NULL REFERENCES school(id) ON DELETE RESTRICT,
                    name TEXT NOT NULL CHECK (name <> '') COLLATE NOCASE,
                    UNIQUE (schoolId, name)
                );
                CREATE TABLE lot (
                    id INTEGER PRIMARY KEY,
                    number TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (number <> ''),
                    title TEXT NOT NULL,
                    supplier TEXT
                );
                CREATE TABLE purchaseOrder (
                    id INTEGER PRIMARY KEY,
                    memberId INTEGER NOT NULL REFERENCES member(id) ON DELETE RESTRICT,
                    lotId INTEGER REFERENCES lot(id) ON DELETE RESTRICT,
                    number TEXT NOT NULL COLLATE NOCASE CHECK (number <> ''),
                    supplier TEXT,
                    orderedOn TEXT,
                    deliveredOn TEXT,
                    deliveryNote TEXT,
                    amountExclTax INTEGER CHECK (amountExclTax IS NULL OR amountExclTax >= 0),
                    amountInclTax INTEGER CHECK (amountInclTax IS NULL OR amountInclTax >= 0),
                    UNIQUE (memberId, number)
                );
                CREATE INDEX purchaseOrder_lotId ON purchaseOrder(lotId);
                CREATE INDEX purchaseOrder_number ON purchaseOrder(number);
                CREATE TABLE fundingLine (
                    id INTEGER PRIMARY KEY,
                    orderId INTEGER NOT NULL REFERENCES purchaseOrder(id) ON DELETE CASCADE,
                    funder TEXT NOT NULL CHECK (funder IN ('commune', 'departement', 'state', 'other')),
                    label TEXT,
                    requested INTEGER NOT NULL CHECK (requested >= 0),
                    granted INTEGER CHECK (granted IS NULL OR granted >= 0)
                );
                CREATE INDEX fundingLine_orderId ON fundingLine(orderId);
                CREATE TABLE device (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('interactiveScreen', 'laptop', 'tablet', 'cart', 'documentCamera',
                                                       'projector', 'accessPoint', 'other')),
                    manufacturer TEXT,
                    model TEXT,
                    serial TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (serial <> ''),
                    assetTag TEXT UNIQUE COLLATE NOCASE,
                    status TEXT NOT NULL CHECK (status IN ('inStock', 'deployed', 'inRepair', 'lost', 'retired')),
                    roomId INTEGER REFERENCES room(id) ON DELETE RESTRICT,
                    cartId INTEGER REFERENCES device(id) ON DELETE RESTRICT,
                    orderId INTEGER REFERENCES purchaseOrder(id) ON DELETE RESTRICT,
                    warrantyEnd TEXT,
                    purchasePrice INTEGER CHECK (purchasePrice IS NULL OR purchasePrice >= 0),
                    hostname TEXT,
                    address TEXT,
                    sshPort INTEGER CHECK (sshPort IS NULL OR sshPort BETWEEN 1 AND 65535),
                    sshUser TEXT,
                    notes TEXT,
                    CHECK (roomId IS NULL OR cartId IS NULL),
                    CHECK (cartId IS NULL OR kind IN ('laptop', 'tablet'))
                );
                CREATE INDEX device_roomId ON device(roomId);
                CREATE INDEX device_cartId ON device(cartId);
                CREATE INDEX device_orderId ON device(orderId);
                CREATE INDEX device_kind_status ON device(kind, status);
                CREATE INDEX device_hostname ON device(hostname);
                CREATE INDEX device_address ON device(address);
                CREATE TABLE deviceMac (
                    mac TEXT PRIMARY KEY CHECK (length(mac) = 17),
                    deviceId INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE
                ) WITHOUT ROWID;
                CREATE INDEX deviceMac_deviceId ON deviceMac(deviceId);
                CREATE TABLE event (
                    id INTEGER PRIMARY KEY,
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    entityId INTEGER NOT NULL,
                    entityKey TEXT NOT NULL COLLATE NOCASE,
                    action TEXT NOT NULL,
                    changes TEXT NOT NULL
                );
                CREATE INDEX event_entity ON event(entity, entityId);
                CREATE INDEX event_entityKey ON event(entityKey);
                """)
        }
        migrator.registerMigration("v2: pinned SSH host key of managed devices") { db in
            try db.execute(sql: "ALTER TABLE device ADD COLUMN hostKey TEXT")
        }
        migrator.registerMigration("v3: provisioning runs") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY,
                    playbook TEXT NOT NULL,
                    playbookHash TEXT NOT NULL,
                    selector TEXT NOT NULL,
                    checkMode INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    startedAt TEXT NOT NULL,
                    endedAt TEXT,
                    exitCode INTEGER,
                    retryOf INTEGER REFERENCES run(id) ON DELETE SET NULL
                );
                CREATE TABLE runHost (
                    runId INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    serial TEXT NOT NULL,
                    host TEXT NOT NULL,
                    ok INTEGER NOT NULL, changed INTEGER NOT NULL, failed INTEGER NOT NULL, skipped INTEGER NOT NULL, unreachable INTEGER NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'changed', 'failed', 'unreachable')),
                    PRIMARY KEY (runId, serial)
                ) WITHOUT ROWID;
                CREATE INDEX runHost_serial ON runHost(serial COLLATE NOCASE);
                CREATE TABLE runTask (
                    id INTEGER PRIMARY KEY,
                    runId INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    serial TEXT NOT NULL,
                    host TEXT NOT NULL,
                    play TEXT NOT NULL,
                    task TEXT NOT NULL,
                    item TEXT,
                    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'changed', 'failed', 'skipped', 'unreachable')),
                    changed INTEGER NOT NULL,
                    ignored INTEGER NOT NULL,
                    message TEXT,
                    output TEXT,
                    diff TEXT,
                    milliseconds INTEGER NOT NULL
                );
                CREATE INDEX runTask_runId ON runTask(runId, serial);
                """)
        }
        migrator.registerMigration("v4: gathered facts and pending work") { db in
            try db.execute(sql: """
                CREATE TABLE deviceFacts (
                    deviceId INTEGER PRIMARY KEY REFERENCES device(id) ON DELETE CASCADE,
                    seenAt TEXT NOT NULL,
                    facts TEXT NOT NULL
                );
                CREATE TABLE pending (
                    deviceId INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,
                    playbook TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    since TEXT NOT NULL,
                    runId INTEGER REFERENCES run(id) ON DELETE SET NULL,
                    PRIMARY KEY (deviceId, playbook)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v5: groups of the technician's own") { db in
            try db.execute(sql: """
                CREATE TABLE userGroup (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    vars TEXT NOT NULL DEFAULT '{}'
                );
                CREATE TABLE userGroupDevice (
                    groupId INTEGER NOT NULL REFERENCES userGroup(id) ON DELETE CASCADE,
                    deviceId INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,
                    PRIMARY KEY (groupId, deviceId)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v6: a device's designation and its price before tax") { db in
            try db.execute(sql: """
                ALTER TABLE device ADD COLUMN designation TEXT;
                ALTER TABLE device ADD COLUMN priceExclTax INTEGER CHECK (priceExclTax IS NULL OR priceExclTax >= 0);
                """)
        }
        migrator.registerMigration("v7: a device's status follows its place") { db in
            // In a room, directly or through a cart standing in one: deployed; nowhere: in stock.
            // Each device put right gets an audit event saying so.
            let byPlace = """
                CASE WHEN d.roomId IS NOT NULL OR (SELECT c.roomId FROM device c WHERE c.id = d.cartId) IS NOT NULL
                     THEN 'deployed' ELSE 'inStock' END
                """
            let at = Date().formatted(EventRecord.timestampFormat)
            try db.execute(sql: """
                INSERT INTO event (at, actor, entity, entityId, entityKey, action, changes)
                SELECT ?, 'parc (migration v7)', 'device', d.id, d.serial, 'update',
                       json_array(json_object('field', 'status', 'old', d.status, 'new', \(byPlace)))
                FROM device d WHERE d.status IN ('inStock', 'deployed') AND d.status <> \(byPlace);
                UPDATE device AS d SET status = \(byPlace) WHERE d.status IN ('inStock', 'deployed') AND d.status <> \(byPlace);
                """, arguments: [at])
        }
        migrator.registerMigration("v8: pending work keeps how its run was asked for") { db in
            try db.execute(sql: "ALTER TABLE pending ADD COLUMN parameters TEXT")
        }
        migrator.registerMigration("v9: loans of mobile classes") { db in
            try db.execute(sql: """
                CREATE TABLE cartLoan (
                    id INTEGER PRIMARY KEY,
                    cartId INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,
                    roomId INTEGER NOT NULL REFERENCES room(id),
                    homeRoomId INTEGER REFERENCES room(id),
                    since TEXT NOT NULL,
                    until TEXT NOT NULL,
                    returnedOn TEXT
                );
                CREATE INDEX cartLoanByCart ON cartLoan(cartId);
                """)
        }
        migrator.registerMigration("v10: web accounts, sessions, API tokens, problem reports, documents") { db in
            try db.execute(sql: """
                CREATE TABLE account (
                    id INTEGER PRIMARY KEY,
                    login TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'commune')),
                    memberId INTEGER REFERENCES member(id),
                    passwordHash TEXT NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0,
                    createdAt TEXT NOT NULL,
                    CHECK ((role = 'commune') = (memberId IS NOT NULL))
                );
                CREATE TABLE webSession (
                    digest TEXT PRIMARY KEY,
                    accountId INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    csrf TEXT NOT NULL,
                    createdAt REAL NOT NULL,
                    expiresAt REAL NOT NULL
                );
                CREATE INDEX webSessionByAccount ON webSession(accountId);
                CREATE TABLE apiToken (
                    id INTEGER PRIMARY KEY,
                    accountId INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    digest TEXT NOT NULL UNIQUE,
                    prefix TEXT NOT NULL,
                    createdAt TEXT NOT NULL,
                    revokedAt TEXT
                );
                CREATE TABLE loginFailure (
                    id INTEGER PRIMARY KEY,
                    login TEXT NOT NULL COLLATE NOCASE,
                    address TEXT NOT NULL,
                    at REAL NOT NULL
                );
                CREATE INDEX loginFailureByLogin ON loginFailure(login, at);
                CREATE INDEX loginFailureByAddress ON loginFailure(address, at);
                CREATE TABLE problem (
                    id INTEGER PRIMARY KEY,
                    deviceId INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('broken', 'missing', 'damaged')),
                    description TEXT NOT NULL,
                    since TEXT,
                    contactName TEXT NOT NULL,
                    contactPhone TEXT NOT NULL,
                    reportedBy TEXT NOT NULL,
                    reportedAt TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted', 'closed')),
                    acceptedBy TEXT,
                    acceptedAt TEXT,
                    closedBy TEXT,
                    closedAt TEXT,
                    resolution TEXT
                );
                CREATE INDEX problemByDevice ON problem(deviceId);
                CREATE TABLE document (
                    id INTEGER PRIMARY KEY,
                    memberId INTEGER NOT NULL REFERENCES member(id) ON DELETE CASCADE,
                    orderId INTEGER REFERENCES purchaseOrder(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    title TEXT NOT NULL,
                    fileName TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    content BLOB NOT NULL,
                    addedBy TEXT NOT NULL,
                    addedAt TEXT NOT NULL
                );
                CREATE INDEX documentByMember ON document(memberId);
                """)
        }
        migrator.registerMigration("v11: a trigram index of device text for search") { db in
            // The fields `parc find` and the portal's search look in, kept by triggers; MACs both
            // as stored (02:00:a6:…) and as bare hex (0200a6…), so that any separator finds them.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE deviceText USING fts5(serial, assetTag, hostname, address, model, manufacturer, macs, tokenize = 'trigram');
                INSERT INTO deviceText (rowid, serial, assetTag, hostname, address, model, manufacturer, macs)
                    SELECT id, serial, assetTag, hostname, address, model, manufacturer,
                           (SELECT group_concat(mac || ' ' || replace(mac, ':', ''), ' ') FROM deviceMac WHERE deviceId = device.id)
                    FROM device;
                CREATE TRIGGER deviceText_insert AFTER INSERT ON device BEGIN
                    INSERT INTO deviceText (rowid, serial, assetTag, hostname, address, model, manufacturer, macs)
                    VALUES (new.id, new.serial, new.assetTag, new.hostname, new.address, new.model, new.manufacturer, NULL);
                END;
                CREATE TRIGGER deviceText_delete AFTER DELETE ON device BEGIN
                    DELETE FROM deviceText WHERE rowid = old.id;
                END;
                CREATE TRIGGER deviceText_update AFTER UPDATE OF serial, assetTag, hostname, address, model, manufacturer ON device BEGIN
                    UPDATE deviceText SET serial = new.serial, assetTag = new.assetTag, hostname = new.hostname, address = new.address,
                        model = new.model, manufacturer = new.manufacturer WHERE rowid = new.id;
                END;
                CREATE TRIGGER deviceText_macInsert AFTER INSERT ON deviceMac BEGIN
                    UPDATE deviceText SET macs = (SELECT group_concat(mac || ' ' || replace(mac, ':', ''), ' ') FROM deviceMac WHERE deviceId = new.deviceId)
                    WHERE rowid = new.deviceId;
                END;
                CREATE TRIGGER deviceText_macDelete AFTER DELETE ON deviceMac BEGIN
                    UPDATE deviceText SET macs = (SELECT group_concat(mac || ' ' || replace(mac, ':', ''), ' ') FROM deviceMac WHERE deviceId = old.deviceId)
                    WHERE rowid = old.deviceId;
                END;
                """)
        }
        migrator.registerMigration("v12: why a run stopped, how it was asked for, and which devices a running run holds") { db in
            // One run at a time per device: a run claims its devices when it starts and lets them
            // go when it ends; a claim whose process is gone (a crash) no longer holds.
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN aborted TEXT;
                ALTER TABLE run ADD COLUMN parameters TEXT;
                CREATE TABLE runClaim (
                    serial TEXT PRIMARY KEY COLLATE NOCASE,
                    runId INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    pid INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX runClaim_runId ON runClaim(runId);
                """)
        }
        migrator.registerMigration("v13: the process running a run") { db in
            // A run whose process is gone (kill -9, a crash) is ended as interrupted, claims or not.
            try db.execute(sql: "ALTER TABLE run ADD COLUMN pid INTEGER")
        }
        migrator.registerMigration("v14: relays (an account role with schools) and the relay that ran each device") { db in
            // SQLite cannot change a CHECK: the account table is rebuilt (foreign keys are off
            // during migrations, so sessions and tokens stay).
            try db.execute(sql: """
                CREATE TABLE account_v14 (
                    id INTEGER PRIMARY KEY,
                    login TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'commune', 'relay')),
                    memberId INTEGER REFERENCES member(id),
                    passwordHash TEXT NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0,
                    createdAt TEXT NOT NULL,
                    CHECK ((role = 'commune') = (memberId IS NOT NULL))
                );
                INSERT INTO account_v14 SELECT id, login, role, memberId, passwordHash, disabled, createdAt FROM account;
                DROP TABLE account;
                ALTER TABLE account_v14 RENAME TO account;
                CREATE TABLE accountSchool (
                    accountId INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    schoolId INTEGER NOT NULL REFERENCES school(id) ON DELETE CASCADE,
                    PRIMARY KEY (accountId, schoolId)
                ) WITHOUT ROWID;
                ALTER TABLE runHost ADD COLUMN relay TEXT;
                """)
        }
        migrator.registerMigration("v15: a version on each device, so that a stale edit is refused") { db in
            // Every change of a row bumps its version, whoever makes it (the command line, the web,
            // an import, a run pinning a key); a cart's version also moves when a device goes in or
            // out. An edit made from what was read at version N is refused at N+1.
            try db.execute(sql: """
                ALTER TABLE device ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
                CREATE TRIGGER device_version AFTER UPDATE ON device WHEN NEW.version = OLD.version
                BEGIN UPDATE device SET version = OLD.version + 1 WHERE id = NEW.id; END;
                CREATE TRIGGER device_cart_moved AFTER UPDATE OF cartId ON device WHEN OLD.cartId IS NOT NEW.cartId
                BEGIN UPDATE device SET version = version + 1 WHERE id IN (OLD.cartId, NEW.cartId); END;
                CREATE TRIGGER device_cart_added AFTER INSERT ON device WHEN NEW.cartId IS NOT NULL
                BEGIN UPDATE device SET version = version + 1 WHERE id = NEW.cartId; END;
                CREATE TRIGGER device_cart_removed AFTER DELETE ON device WHEN OLD.cartId IS NOT NULL
                BEGIN UPDATE device SET version = version + 1 WHERE id = OLD.cartId; END;
                """)
        }
        migrator.registerMigration("v16: a problem's follow-ups and outcome; accounts' e-mail and name; the e-mails to send") { db in
            // Notices are written to the outbox in the transaction that makes them due, and sent
            // from there (retried until they go): a mail server that is down loses nothing.
            try db.execute(sql: """
                ALTER TABLE account ADD COLUMN email TEXT;
                ALTER TABLE account ADD COLUMN displayName TEXT;
                CREATE TABLE mailOutbox (
                    id INTEGER PRIMARY KEY,
                    recipient TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    body TEXT NOT NULL,
                    link TEXT,
                    createdAt TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    nextAttemptAt REAL NOT NULL DEFAULT 0,
                    lastError TEXT,
                    sentAt TEXT
                );
                CREATE INDEX mailOutboxDue ON mailOutbox(nextAttemptAt) WHERE sentAt IS NULL;
                ALTER TABLE problem ADD COLUMN outcome TEXT;
                CREATE TABLE problemNote (
                    id INTEGER PRIMARY KEY,
                    problemId INTEGER NOT NULL REFERENCES problem(id) ON DELETE CASCADE,
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    text TEXT NOT NULL
                );
                CREATE INDEX problemNoteByProblem ON problemNote(problemId);
                """)
        }
        migrator.registerMigration("v17: simulated (lab) devices belong to no commune") { db in
            // Before this, `parc lab up` recorded its devices as the manufacturer "parc", model "lab device".
            try db.execute(sql: """
                ALTER TABLE device ADD COLUMN simulated INTEGER;
                UPDATE device SET simulated = 1 WHERE manufacturer = 'parc' AND model = 'lab device';
                """)
        }
        migrator.registerMigration("v18: a bulk import fills the search index once, at its end") { db in
            // Each insert into the FTS5 index from a row's trigger makes FTS5 write its pending
            // terms out (a statement is a savepoint): 100,000 rows took 10 s, against 4.5 s with
            // the index filled by one statement at the end. While a transaction holds a row in
            // searchDeferred, devices created after `since` (ids above it) are left out by the
            // triggers and indexed when the import ends (InventoryTransaction.deferringSearchIndex);
            // the row never outlives its transaction, so no other connection sees it.
            try db.execute(sql: """
                CREATE TABLE searchDeferred (since INTEGER NOT NULL);
                DROP TRIGGER deviceText_insert;
                CREATE TRIGGER deviceText_insert AFTER INSERT ON device
                WHEN NOT EXISTS (SELECT 1 FROM searchDeferred WHERE new.id > since) BEGIN
                    INSERT INTO deviceText (rowid, serial, assetTag, hostname, address, model, manufacturer, macs)
                    VALUES (new.id, new.serial, new.assetTag, new.hostname, new.address, new.model, new.manufacturer, NULL);
                END;
                DROP TRIGGER deviceText_macInsert;
                CREATE TRIGGER deviceText_macInsert AFTER INSERT ON deviceMac
                WHEN NOT EXISTS (SELECT 1 FROM searchDeferred WHERE new.deviceId > since) BEGIN
                    UPDATE deviceText SET macs = (SELECT group_concat(mac || ' ' || replace(mac, ':', ''), ' ') FROM deviceMac WHERE deviceId = new.deviceId)
                    WHERE rowid = new.deviceId;
                END;
                """)
        }
        return migrator
    }
}
