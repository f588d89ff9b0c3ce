/// A QR code (ISO/IEC 18004, byte mode, error correction level M, versions 1–10) for the
/// otpauth link on the invite page, so a coordinator can scan it instead of typing a key. Written
/// here because no QR library is among this machine's packages; drawn as inline SVG, so the page
/// fetches nothing.
struct QRCode: Sendable, Equatable {
    /// Rows of modules, true for dark.
    let modules: [[Bool]]
    let version: Int
    let mask: Int

    var size: Int { modules.count }

    enum Failure: Error, Equatable {
        /// Longer than version 10 at level M holds (213 bytes).
        case tooLong(bytes: Int)
    }

    /// Per version (index 0 is version 1), level M: error-correction codewords per block, and
    /// the blocks' data codeword counts.
    static let blocks: [(ec: Int, data: [Int])] = [
        (10, [16]), (16, [28]), (26, [44]), (18, [32, 32]), (24, [43, 43]),
        (16, [27, 27, 27, 27]), (18, [31, 31, 31, 31]), (22, [38, 38, 39, 39]), (22, [36, 36, 36, 37, 37]),
        (26, [43, 43, 43, 43, 44]),
    ]

    /// Centres of the alignment patterns along each axis, per version.
    static let alignment: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
    ]

    /// The smallest code that holds `text`; `mask` fixes the mask (else the least penalised).
    static func encode(_ text: String, mask fixedMask: Int? = nil) throws(Failure) -> QRCode {
        let bytes = Array(text.utf8)
        guard let version = (1...10).first(where: { v in
            let capacity = blocks[v - 1].data.reduce(0, +) * 8
            return 4 + (v < 10 ? 8 : 16) + bytes.count * 8 <= capacity
        }) else { throw .tooLong(bytes: bytes.count) }
        let codewords = interleaved(dataCodewords(bytes, version: version), version: version)
        var best: QRCode?
        var bestPenalty = Int.max
        for mask in fixedMask.map({ [$0] }) ?? Array(0..<8) {
            var grid = Grid(version: version)
            grid.place(codewords)
            grid.apply(mask: mask)
            grid.drawFormat(mask: mask)
            let penalty = fixedMask == nil ? grid.penalty() : 0
            if penalty < bestPenalty {
                bestPenalty = penalty
                best = QRCode(modules: grid.dark, version: version, mask: mask)
            }
        }
        return best!
    }

    /// Mode, length, the bytes, terminator and padding: the data codewords.
    static func dataCodewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        let capacity = blocks[version - 1].data.reduce(0, +)
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) { for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) } }
        append(0b0100, 4)
        append(bytes.count, version < 10 ? 8 : 16)
        for b in bytes { append(Int(b), 8) }
        append(0, min(4, capacity * 8 - bits.count))
        while bits.count % 8 != 0 { bits.append(false) }
        var out = stride(from: 0, to: bits.count, by: 8).map { i in bits[i..<i + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) } }
        var pad: UInt8 = 0xEC
        while out.count < capacity {
            out.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return out
    }

    /// Splits into blocks, adds each block's error correction, and interleaves them.
    static func interleaved(_ data: [UInt8], version: Int) -> [UInt8] {
        let layout = blocks[version - 1]
        var split: [[UInt8]] = []
        var start = 0
        for n in layout.data {
            split.append(Array(data[start..<start + n]))
            start += n
        }
        let generator = ReedSolomon.generator(degree: layout.ec)
        let ec = split.map { ReedSolomon.remainder($0, generator: generator) }
        var out: [UInt8] = []
        for i in 0..<(layout.data.max() ?? 0) { for block in split where i < block.count { out.append(block[i]) } }
        for i in 0..<layout.ec { for block in ec { out.append(block[i]) } }
        return out
    }

    /// Inline SVG with a 4-module quiet zone; `label` is what a screen reader says.
    func svg(label: String, pixelsPerModule: Int = 5) -> String {
        let side = size + 8
        var path = ""
        for (y, row) in modules.enumerated() {
            for (x, on) in row.enumerated() where on { path += "M\(x + 4) \(y + 4)h1v1h-1z" }
        }
        let escaped = label.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" width="\(side * pixelsPerModule)" \
            height="\(side * pixelsPerModule)" role="img" aria-label="\(escaped)" shape-rendering="crispEdges">\
            <rect width="\(side)" height="\(side)" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
            """
    }
}

/// Reed–Solomon error correction over GF(256) with the QR polynomial x⁸+x⁴+x³+x²+1.
enum ReedSolomon {
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var result: UInt8 = 0
        var a = a, b = b
        while b != 0 {
            if b & 1 == 1 { result ^= a }
            let carry = a & 0x80 != 0
            a <<= 1
            if carry { a ^= 0x1D }
            b >>= 1
        }
        return result
    }

    /// (x − α⁰)(x − α¹)…(x − αⁿ⁻¹), highest power first without its leading 1.
    static func generator(degree: Int) -> [UInt8] {
        var poly = [UInt8](repeating: 0, count: degree)
        poly[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                poly[j] = multiply(poly[j], root)
                if j + 1 < degree { poly[j] ^= poly[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return poly
    }

    static func remainder(_ data: [UInt8], generator: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: generator.count)
        for b in data {
            let factor = b ^ result.removeFirst()
            result.append(0)
            for i in 0..<result.count { result[i] ^= multiply(generator[i], factor) }
        }
        return result
    }
}

/// The module grid while it is drawn: function patterns first, then data, mask and format.
private struct Grid {
    let version: Int
    let size: Int
    var dark: [[Bool]]
    var reserved: [[Bool]]

    init(version: Int) {
        self.version = version
        size = 17 + 4 * version
        dark = Array(repeating: Array(repeating: false, count: size), count: size)
        reserved = dark
        for i in 0..<size {
            set(6, i, i % 2 == 0)
            set(i, 6, i % 2 == 0)
        }
        finder(3, 3)
        finder(size - 4, 3)
        finder(3, size - 4)
        let centres = QRCode.alignment[version - 1]
        for cx in centres {
            for cy in centres where !((cx == 6 && cy == 6) || (cx == 6 && cy == centres.last!) || (cx == centres.last! && cy == 6)) {
                for dy in -2...2 { for dx in -2...2 { set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) } }
            }
        }
        drawFormat(mask: 0)  // reserves the format areas; redrawn once the mask is known
        if version >= 7 {
            var rem = version
            for _ in 0..<12 { rem = (rem << 1) ^ ((rem >> 11) * 0x1F25) }
            let bits = version << 12 | rem
            for i in 0..<18 {
                let on = (bits >> i) & 1 == 1
                let a = size - 11 + i % 3, b = i / 3
                set(a, b, on)
                set(b, a, on)
            }
        }
    }

    mutating func set(_ x: Int, _ y: Int, _ on: Bool) {
        dark[y][x] = on
        reserved[y][x] = true
    }

    mutating func finder(_ cx: Int, _ cy: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let x = cx + dx, y = cy + dy
                guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
                let d = max(abs(dx), abs(dy))
                set(x, y, d != 2 && d != 4)
            }
        }
    }

    /// Level M (format bits 00) and the mask, BCH-protected, in both places; and the dark module.
    mutating func drawFormat(mask: Int) {
        let data = mask
        var rem = data
        for _ in 0..<10 { rem = (rem << 1) ^ ((rem >> 9) * 0x537) }
        let bits = (data << 10 | rem) ^ 0x5412
        func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
        for i in 0..<6 { set(8, i, bit(i)) }
        set(8, 7, bit(6))
        set(8, 8, bit(7))
        set(7, 8, bit(8))
        for i in 9..<15 { set(14 - i, 8, bit(i)) }
        for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
        for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
        set(8, size - 8, true)
    }

    /// The zigzag from the bottom right, two columns at a time, skipping the timing column.
    mutating func place(_ codewords: [UInt8]) {
        var i = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for j in 0..<2 {
                    let x = right - j
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vertical : vertical
                    if !reserved[y][x] && i < codewords.count * 8 {
                        dark[y][x] = (codewords[i >> 3] >> (7 - (i & 7))) & 1 == 1
                        i += 1
                    }
                }
            }
            right -= 2
        }
    }

    mutating func apply(mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !reserved[y][x] {
                let flip = switch mask {
                case 0: (x + y) % 2 == 0
                case 1: y % 2 == 0
                case 2: x % 3 == 0
                case 3: (x + y) % 3 == 0
                case 4: (x / 3 + y / 2) % 2 == 0
                case 5: x * y % 2 + x * y % 3 == 0
                case 6: (x * y % 2 + x * y % 3) % 2 == 0
                default: ((x + y) % 2 + x * y % 3) % 2 == 0
                }
                if flip { dark[y][x].toggle() }
            }
        }
    }

    /// The standard's four penalties: runs, blocks, finder look-alikes, and dark/light balance.
    func penalty() -> Int {
        var total = 0
        let columns = (0..<size).map { x in (0..<size).map { dark[$0][x] } }
        let finderLike: [[Bool]] = [[true, false, true, true, true, false, true, false, false, false, false],
                                    [false, false, false, false, true, false, true, true, true, false, true]]
        for line in dark + columns {
            var run = 1
            for i in 1..<size {
                if line[i] == line[i - 1] {
                    run += 1
                } else {
                    if run >= 5 { total += run - 2 }
                    run = 1
                }
            }
            if run >= 5 { total += run - 2 }
            if size >= 11 {
                for start in 0...(size - 11) {
                    let window = Array(line[start..<start + 11])
                    if finderLike.contains(window) { total += 40 }
                }
            }
        }
        for y in 0..<size - 1 {
            for x in 0..<size - 1 where dark[y][x] == dark[y][x + 1] && dark[y][x] == dark[y + 1][x] && dark[y][x] == dark[y + 1][x + 1] {
                total += 3
            }
        }
        let darkCount = dark.reduce(0) { $0 + $1.filter { $0 }.count }
        let percent = darkCount * 100 / (size * size)
        total += abs(percent - 50) / 5 * 10
        return total
    }
}
