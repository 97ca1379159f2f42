/// The Modicon register numbers that vendors' manuals use (30001 = input register at wire address 0): one table,
/// read by the map loader (`VendorNumbering`), by addresses a technician types (`RegisterAddress`) and by the CLI.
public enum Modicon {
    /// The number of wire address 0 in `function`'s table, with 5 digits (30001) or 6 (300001). Coils start at 1.
    public static func base(_ function: RegisterFunction, digits: Int) -> Int {
        switch (function, digits == 6) {
        case (.coil, _): 1
        case (.discrete, false): 10001
        case (.input, false): 30001
        case (.holding, false): 40001
        case (.discrete, true): 100001
        case (.input, true): 300001
        case (.holding, true): 400001
        }
    }

    /// The highest wire address a number of that many digits can reach: 5 digits stop at 9998, 6 cover them all.
    public static func lastWire(digits: Int) -> Int { digits == 6 ? 65535 : 9998 }

    /// The wire address of number `n` in `function`'s table, or nil when `n` is outside it.
    public static func wireAddress(_ n: Int, function: RegisterFunction, digits: Int) -> Int? {
        let base = base(function, digits: digits)
        return (base...(base + lastWire(digits: digits))).contains(n) ? n - base : nil
    }

    /// The table a number of `digits` digits names by itself, with its base; nil for a number that names none (coil
    /// numbers start at 1 and look like wire addresses, so they are never guessed).
    public static func table(of n: Int, digits: Int) -> (base: Int, function: RegisterFunction)? {
        guard digits == 5 || digits == 6 else { return nil }
        for function in [RegisterFunction.discrete, .input, .holding] {
            if wireAddress(n, function: function, digits: digits) != nil { return (base(function, digits: digits), function) }
        }
        return nil
    }

    /// The number of a wire address: 5 digits while they suffice, else 6 (Carlo Gavazzi style).
    public static func number(_ wire: Int, _ function: RegisterFunction) -> String {
        String(base(function, digits: wire <= lastWire(digits: 5) ? 5 : 6) + wire)
    }
}
