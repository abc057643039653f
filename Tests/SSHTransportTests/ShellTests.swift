import Foundation
import Lab
import ParcCore
import SSHTransport
import Testing

/// The device's shell kept for a run (one per way of becoming), against real sshd.
@Suite(.serialized) struct ShellTests {
    @Test func aBatchKeepsStdoutStderrAndStatusApartAndCostsOneRoundTrip() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        _ = try await c.shell("true")
        let before = await c.roundTrips()
        let results = try await c.batch([
            ShellCommand("printf 'École\\n'; printf 'attention\\n' >&2; exit 3"),
            ShellCommand("printf 'sans fin de ligne'"),
            ShellCommand("echo \"$k\" \"${k:-no nonce}\" \"${LC_ALL-no LC_ALL}\" \"$1\"; exit 0"),
        ] + (1...20).map { ShellCommand("echo \($0)") }, become: .none, timeout: .seconds(20)).complete()
        let after = await c.roundTrips()
        let fresh = try await lab.connect()
        let start = await fresh.roundTrips()
        _ = try await fresh.batch([ShellCommand("echo one")], become: .sudo, timeout: .seconds(20)).complete()
        let opened = await fresh.roundTrips()
        _ = try await fresh.batch([ShellCommand("echo two")], become: .sudo, timeout: .seconds(20)).complete()
        let second = await fresh.roundTrips()
        await fresh.close()
        // A new root shell costs its channel, then its start and the first batch together (2); on
        // a loaded machine the start may be answered before the batch leaves (3). Later batches: 1.
        #expect(start == 0 && (2...3).contains(opened) && second - opened == 1, "\(start) \(opened) \(second)")
        #expect(results[0]?.exitStatus == 3)
        #expect(results[0]?.stdoutText == "École\n")
        #expect(results[0]?.stderrText == "attention\n")
        #expect(results[1]?.stdoutText == "sans fin de ligne")
        #expect(results[2]?.stdoutText == " no nonce no LC_ALL \n",
                "the script cannot read the end marker's nonce, and runs in the device's own locale (the loop's C locale stays the loop's)")
        #expect(results[22]?.stdoutText == "20\n")
        #expect(after - before == 1, "23 commands in one batch are one round trip (counted \(after - before))")
        await c.close()
    }

    @Test func outputThatLooksLikeAnEndMarkerIsOnlyOutputAndBytesPassAsTheyAre() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        // A marker of the same shape, and one the device saw before (a previous command's), printed on both streams.
        let first = try await c.batch([ShellCommand("printf '\\nparc-end-0123abc 0\\n'; printf '\\nparc-end-0123abc\\n' >&2")],
                                      become: .none, timeout: .seconds(20)).complete()
        #expect(first[0]?.stdoutText == "\nparc-end-0123abc 0\n")
        #expect(first[0]?.stderrText == "\nparc-end-0123abc\n")
        var all: [UInt8] = []
        for _ in 0..<4 { all += (0...255).map { UInt8($0) } }
        let binary = try await c.batch([ShellCommand("head -c 1024 <&3 | tee /dev/stderr", input: all), ShellCommand("echo after")],
                                       become: .none, timeout: .seconds(20)).complete()
        #expect(binary[0]?.stdout == all, "every byte value, NUL and newlines included, comes back on stdout")
        #expect(binary[0]?.stderr == all)
        #expect(binary[1]?.stdoutText == "after\n", "the stream stays in step after binary data")
        await c.close()
    }

    @Test func aFiftyMegabyteInputReachesTheDeviceWhole() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        var bytes = [UInt8](repeating: 0, count: 50 * 1024 * 1024)
        for i in stride(from: 0, to: bytes.count, by: 4093) { bytes[i] = UInt8(truncatingIfNeeded: i / 4093) }
        let path = "/tmp/parc-shell-big-\(UUID().uuidString.prefix(6))"
        let r = try await c.batch([ShellCommand("head -c \(bytes.count) <&3 > \(path) && sha256sum \(path) | cut -d' ' -f1; rm -f \(path)", input: bytes),
                                   ShellCommand("echo next")], become: .none, timeout: .seconds(120)).complete()
        #expect(r[0]?.stdoutText == (try sha256Hex(bytes)) + "\n")
        #expect(r[1]?.stdoutText == "next\n")
        // A script that reads none of its input leaves the shell in step (the loop drains it).
        let skipped = try await c.batch([ShellCommand("echo ignored", input: Array(repeating: 65, count: 300_000)), ShellCommand("echo still")],
                                        become: .none, timeout: .seconds(60)).complete()
        #expect(skipped.map { $0?.stdoutText } == ["ignored\n", "still\n"])
        await c.close()
    }

    @Test func aFailedStepSkipsTheLaterStepsOfItsBatchButNotTheReads() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        let mark = "/tmp/parc-shell-step-\(UUID().uuidString.prefix(6))"
        let r = try await c.batch([ShellCommand("true", isStep: true), ShellCommand("exit 4", isStep: true),
                                   ShellCommand("touch \(mark)", isStep: true), ShellCommand("test -e \(mark); echo $?")],
                                  become: .none, timeout: .seconds(20)).complete()
        #expect(r[0]?.exitStatus == 0)
        #expect(r[1]?.exitStatus == 4)
        #expect(r[2] == nil, "the step after a failed one is skipped")
        #expect(r[3]?.stdoutText == "1\n", "reads still run, and the skipped step changed nothing")
        // The next batch starts afresh.
        let next = try await c.batch([ShellCommand("echo again", isStep: true)], become: .none, timeout: .seconds(20)).complete()
        #expect(next[0]?.stdoutText == "again\n")
        await c.close()
    }

    @Test func aShellThatNeverAnswersIsAFailureWithinItsBoundAndTheNextBatchGetsAFreshShell() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        // No clock: a batch that waited for `sleep 30` would end well, not fail with the 0.8 s bound.
        await #expect {
            _ = try await c.batch([ShellCommand("sleep 30")], become: .none, timeout: .milliseconds(800)).complete()
        } throws: { error in
            guard case TransportError.noAnswer(let host, let seconds) = error else { return false }
            return host == lab.device.name && seconds == 0.8 && "\(error)".contains("no answer within 0.8 s")
        }
        let r = try await c.shell("echo fresh")
        #expect(r.stdoutText == "fresh\n")
        await c.close()
    }

    @Test func aDeviceThatDropsInTheMiddleOfAStepIsUnreachableNotAHang() async throws {
        let lab = try LabFixture()
        let c = try await lab.connect()
        _ = try await c.shell("true")
        let name = lab.device.name
        let cut = Task.detached {
            try? await Task.sleep(for: .milliseconds(400))
            lab.lab.powerOff(name)
        }
        let outcome = await c.batch([ShellCommand("echo before", isStep: true), ShellCommand("sleep 20", isStep: true)], become: .none, timeout: .seconds(30))
        #expect(outcome.results.map { $0?.stdoutText } == ["before\n"], "what ran before the drop is kept")
        #expect(outcome.interruption?.isUnreachable == true, "\(String(describing: outcome.interruption))")
        await cut.value
        await #expect(throws: TransportError.self) { _ = try await c.shell("true") }
    }

    @Test func theRootShellAsksSudoOnceWithThePasswordOnlyInAnswerToItsPrompt() async throws {
        let lab = try LabFixture(options: LabOptions(password: "Directrice-57", sudoNeedsPassword: true))
        let c = try await lab.connect()
        let become = Become.sudoPassword(Secret("Directrice-57"))
        let r = try await c.batch([ShellCommand("id -u"), ShellCommand("cat <&3", input: Array("entrée\n".utf8)), ShellCommand("echo ok >&2")],
                                  become: become, timeout: .seconds(20)).complete()
        #expect(r.map { $0?.stdoutText } == ["0\n", "entrée\n", ""])
        #expect(r[2]?.stderrText == "ok\n", "sudo's prompt never shows in what commands print")
        let again = try await c.batch([ShellCommand("ps -o args= -p $$ $PPID | grep -c sudo || true")], become: become, timeout: .seconds(20)).complete()
        #expect(again[0]?.stdoutText == "1\n", "the second batch goes through the same sudo")
        let user = try await c.shell("id -u")
        #expect(user.stdoutText != "0\n", "a task without become has its own shell")
        await #expect {
            _ = try await c.batch([ShellCommand("id -u")], become: .sudoUser("nobody", Secret("Mauvais-mot")), timeout: .seconds(20)).complete()
        } throws: { error in
            guard case TransportError.becomeFailed(_, let reason) = error else { return false }
            return reason.contains("incorrect password") && !"\(error)".contains("Mauvais-mot")
        }
        await c.close()
        let fresh = try await lab.connect()
        await #expect {
            _ = try await fresh.batch([ShellCommand("id -u")], become: .sudo, timeout: .seconds(20)).complete()
        } throws: { error in
            if case TransportError.becomeFailed(_, let reason) = error { return reason.contains("password is required") }
            return false
        }
        await fresh.close()
    }
}
