import Crypto
import Foundation

/// Python's `random.Random` (the Mersenne Twister MT19937, seeded as CPython seeds it), so that
/// `random(seed=…)` and `shuffle(seed=…)` choose what Ansible chooses for the same seed: a cron
/// minute spread by host name stays where Ansible put it.
public struct PythonRandom: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    /// CPython's seeding: an integer by its 32-bit words (least significant first); a string (seed
    /// version 2) as the integer of its UTF-8 bytes followed by their SHA-512.
    public init(seed: Value) {
        let words: [UInt32]
        switch seed {
        case .int(let n): words = Self.words(ofMagnitude: Array(withUnsafeBytes(of: n.magnitude.bigEndian) { Array($0) }))
        case .bool(let b): words = [b ? 1 : 0]
        default:
            let text = Array(seed.pythonText.utf8)
            words = Self.words(ofMagnitude: text + Array(SHA512.hash(data: Data(text))))
        }
        seedByArray(words.isEmpty ? [0] : words)
    }

    /// The 32-bit words of a non-negative integer given big-endian, least significant first,
    /// without leading zero words (as `_PyLong_AsByteArray` and `random_seed` use them).
    static func words(ofMagnitude bigEndian: [UInt8]) -> [UInt32] {
        var bytes = Array(bigEndian.drop { $0 == 0 })
        while bytes.count % 4 != 0 { bytes.insert(0, at: 0) }
        var out: [UInt32] = []
        var i = bytes.count
        while i > 0 {
            out.append(UInt32(bytes[i - 4]) << 24 | UInt32(bytes[i - 3]) << 16 | UInt32(bytes[i - 2]) << 8 | UInt32(bytes[i - 1]))
            i -= 4
        }
        return out
    }

    private mutating func seedWith(_ s: UInt32) {
        state[0] = s
        for i in 1..<624 { state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i) }
        index = 624
    }

    private mutating func seedByArray(_ key: [UInt32]) {
        seedWith(19_650_218)
        var i = 1, j = 0
        for _ in 0..<max(624, key.count) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1; j += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<623 {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
        }
        state[0] = 0x8000_0000
    }

    mutating func next32() -> UInt32 {
        if index >= 624 {
            for k in 0..<624 {
                let y = (state[k] & 0x8000_0000) | (state[(k + 1) % 624] & 0x7fff_ffff)
                state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// `getrandbits(k)` for k up to 63.
    mutating func bits(_ k: Int) -> UInt64 {
        if k <= 32 { return UInt64(next32() >> (32 - UInt32(k))) }
        let low = UInt64(next32())
        let high = UInt64(next32() >> (64 - UInt32(k)))
        return high << 32 | low
    }

    /// `_randbelow(n)`: a number in 0..<n by rejection, as CPython draws it.
    public mutating func below(_ n: Int) -> Int {
        guard n > 0 else { return 0 }
        let k = Int.bitWidth - n.leadingZeroBitCount
        var r = bits(k)
        while r >= UInt64(n) { r = bits(k) }
        return Int(r)
    }

    /// `randrange(start, stop, step)`; nil when the range is empty.
    mutating func range(_ start: Int, _ stop: Int, _ step: Int) -> Int? {
        if step == 1 { return stop > start ? start + below(stop - start) : nil }
        guard step != 0 else { return nil }
        let n = step > 0 ? (stop - start + step - 1) / step : (stop - start + step + 1) / step
        return n > 0 ? start + step * below(n) : nil
    }

    /// `shuffle(list)`.
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, below(i + 1)) }
    }
}

/// Without a seed, the system's randomness (Python's SystemRandom), drawn the same way.
struct SystemDraw {
    static func range(_ start: Int, _ stop: Int, _ step: Int) -> Int? {
        guard step != 0 else { return nil }
        let n = step > 0 ? (stop - start + step - 1) / step : (stop - start + step + 1) / step
        return n > 0 ? start + step * Int.random(in: 0..<n) : nil
    }
}
