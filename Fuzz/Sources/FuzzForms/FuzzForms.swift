import FormData

/// The portal's form decoders on arbitrary bytes: the first line is the Content-Type (its
/// boundary), the rest the body, read both as multipart and as urlencoded. Any outcome but a
/// crash, a hang or a memory error is fine.
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
    _ = FormURLEncoded.decodeAll(String(decoding: body, as: UTF8.self))
    return 0
}
