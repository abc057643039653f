import FormData

/// The portal's multipart decoder on arbitrary bytes: the first line is the Content-Type (its
/// boundary), the rest the body. Any outcome but a crash, a hang or a memory error is fine.
/// (Urlencoded forms are read by Hummingbird's URLEncodedFormDecoder, not parc's own code.)
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let newline = bytes.firstIndex(of: 10) ?? bytes.endIndex
    let contentType = String(decoding: bytes[..<newline], as: UTF8.self)
    let body = newline < bytes.endIndex ? Array(bytes[(newline + 1)...]) : []
    if let parts = Multipart.parse(body, contentType: contentType) {
        precondition(parts.count <= Multipart.maxParts)
        for p in parts { precondition(p.body.count <= body.count) }
    }
    return 0
}
