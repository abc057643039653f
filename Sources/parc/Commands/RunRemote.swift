import ArgumentParser
import Foundation
import ParcApp
import ParcCore

/// `parc --server URL run NAME`: the run is the server's (a playbook of its playbooks/, its
/// devices, its relays), followed here as if it ran here: the same progress, recap, --json and exit status.
extension Run {
    func runRemote(_ server: ParcServer) async throws {
        let refused: [(Bool, String)] = [
            (inventoryFile != nil, "-i"), (retry != nil, "--retry"), (pending, "--pending"), (wake, "--wake"), (listHosts, "--list-hosts"),
            (!askVars.isEmpty, "--ask-vars"), (askBecomePass, "-K"), (become, "-b"), (startAtTask != nil, "--start-at-task"),
        ]
        if let option = refused.first(where: { $0.0 })?.1 {
            throw ValidationError("\(option) works on a local inventory only; against \(ServerLogins.key(server.url.absoluteString)) a run names a playbook of its playbooks/ with --limit, --check, --diff, --tags, --skip-tags and -e")
        }
        guard var name = playbook else { throw ValidationError("give the name of a playbook of the server's playbooks/") }
        if name.hasPrefix("playbooks/") { name = String(name.dropFirst("playbooks/".count)) }
        // -e key=value: values, as the console's and the API's (the server renders no template it did not write).
        var variables: [String: String] = [:]
        for item in extraVars {
            guard !item.hasPrefix("@"), let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw ValidationError("-e \(item): against a server, give key=value (a file stays on this machine)")
            }
            variables[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        var body: [String: Any] = ["playbook": name, "check": check, "diff": diff, "limit": limit ?? "all"]
        if let tags { body["tags"] = tags }
        if let skipTags { body["skipTags"] = skipTags }
        if !variables.isEmpty { body["extraVars"] = variables }
        let started = try await server.send(.post, "/api/v1/runs", body: try JSONSerialization.data(withJSONObject: body))
        switch started.status {
        case 202: break
        case 422 where (started.json as? [String: Any])?["error"] as? String == "nothing_to_run":
            warn("no device with an address matches\(limit.map { " --limit \($0)" } ?? ""); nothing to do (see `parc groups`)")
            return
        default: throw AppError(Message(verbatim: started.detail))
        }
        guard let id = (started.json as? [String: Any])?["id"] as? Int else { throw AppError("the server did not say the run's id: \(started.detail)") }
        let progress = Progress(quiet: json, verbosity: global.verbose)
        var report: (hosts: [RunHostSummary], exitCode: Int32, aborted: String?, check: Bool)? = nil
        for try await (event, data) in server.events("/api/v1/runs/\(id)/events") {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            switch event {
            case "play": progress.report(.play(name: object["name"] as? String ?? "", hosts: object["hosts"] as? Int ?? 0))
            case "task":
                if let record = object["record"], let r = try? JSONDecoder().decode(TaskRecord.self, from: JSONSerialization.data(withJSONObject: record)) {
                    progress.report(.task(r))
                }
            case "unreachable": progress.report(.unreachable(host: object["host"] as? String ?? "", message: object["message"] as? String ?? ""))
            case "note": progress.report(.note(object["text"] as? String ?? ""))
            case "recap":
                let hosts = try JSONDecoder().decode([RunHostSummary].self, from: JSONSerialization.data(withJSONObject: object["hosts"] ?? []))
                report = (hosts, Int32(object["exitCode"] as? Int ?? 2), object["aborted"] as? String, object["check"] as? Bool ?? check)
            default: break
            }
        }
        guard let report else { throw AppError("the server stopped telling run \(id) before its end: parc --server \(ServerLogins.key(server.url.absoluteString)) runs show \(id)") }
        if json {
            let recorded = try await server.perform(RunOps.Show(Int64(id)))
            emit(try RunJSON.render(recorded.run, hosts: recorded.hosts, tasks: recorded.tasks))
        } else {
            emit(RecapText.render(report.hosts, aborted: report.aborted, runID: Int64(id), check: report.check))
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}
