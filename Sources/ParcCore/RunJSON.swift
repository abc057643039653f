import Foundation

/// One JSON shape for a run, whoever writes it: `parc run --json`, `parc runs show --json` and the
/// portal's `GET /api/v1/runs/{id}` (keys sorted, dates in ISO 8601; absent optional values left out).
public enum RunJSON {
    struct Host: Encodable {
        var summary: RunHostSummary
        var roundTrips: Int?
        func encode(to encoder: any Encoder) throws {
            try summary.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encodeIfPresent(roundTrips, forKey: .roundTrips)
        }
        enum Key: String, CodingKey { case roundTrips }
    }

    struct Whole: Encodable { var run: RunSummary; var hosts: [Host]; var tasks: [RunTaskEntry] }

    static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// A run with its hosts (and their round trips, when counted) and its tasks.
    public static func encode(_ run: RunSummary, hosts: [RunHostSummary], tasks: [RunTaskEntry], roundTrips: [String: Int]? = nil,
                              pretty: Bool = true) throws -> Data {
        let whole = Whole(run: run, hosts: hosts.map { h in Host(summary: h, roundTrips: roundTrips.map { $0[h.serial] ?? 0 }) }, tasks: tasks)
        return try encoder(pretty: pretty).encode(whole)
    }

    /// Runs as a list (each as the `run` object above).
    public static func encode(_ runs: [RunSummary], pretty: Bool = true) throws -> Data {
        try encoder(pretty: pretty).encode(runs)
    }

    /// The pretty form, as the command line prints it.
    public static func render(_ run: RunSummary, hosts: [RunHostSummary], tasks: [RunTaskEntry], roundTrips: [String: Int]? = nil) throws -> String {
        String(decoding: try encode(run, hosts: hosts, tasks: tasks, roundTrips: roundTrips), as: UTF8.self) + "\n"
    }
}
