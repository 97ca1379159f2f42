/// What the shell completions offer beyond ArgumentParser's own: device ids of a site config and map ids.
/// Completion must never print or fail: a broken or missing config simply completes nothing.
public enum ShellCompletion {
    /// The site config the command line names with `-c FILE`, `--config FILE`, `--config=FILE` or `-cFILE`, else
    /// `defaultPath`. `words` are the shell's words of the whole command line.
    public static func configPath(in words: [String], defaultPath: String = "/etc/sitegate/site.yaml") -> String {
        var found: String? = nil
        for (i, word) in words.enumerated() {
            if (word == "-c" || word == "--config"), i + 1 < words.count, !words[i + 1].isEmpty {
                found = words[i + 1]
            } else if word.hasPrefix("--config=") {
                found = String(word.dropFirst("--config=".count))
            } else if word.hasPrefix("-c"), word.count > 2, !word.hasPrefix("--") {
                found = String(word.dropFirst(2))
            }
        }
        return found ?? defaultPath
    }

    /// The word being completed: `words[index]`. ArgumentParser's own prefix argument is cut from the last word
    /// of the line, which is another word when options follow (`read mai<Tab> -c site.yaml`).
    public static func currentWord(_ words: [String], index: Int) -> String {
        words.indices.contains(index) ? words[index] : ""
    }

    /// Device ids of the config named on the command line that start with `prefix`, in file order.
    public static func deviceIDs(words: [String], prefix: String, defaultPath: String = "/etc/sitegate/site.yaml")
        -> [String]
    {
        let path = configPath(in: words, defaultPath: defaultPath)
        // The ids are read even when the file has errors elsewhere (a half-edited config), as long as it parses.
        guard let text = try? TextFile.read(path), let root = try? YAMLParser.parse(text, file: path),
            case .mapping(let pairs, _) = root,
            case .sequence(let devices, _)? = pairs.first(where: { $0.0.scalarText == "devices" })?.1
        else { return [] }
        return devices.compactMap { device -> String? in
            guard case .mapping(let fields, _) = device else { return nil }
            return fields.first { $0.0.scalarText == "id" }?.1.scalarText
        }.filter { $0.hasPrefix(prefix) }
    }

    /// Map ids in `folders` that start with `prefix`, sorted.
    public static func mapIDs(folders: [String], prefix: String) -> [String] {
        MapLibrary(searchPaths: folders).availableModels().filter { $0.hasPrefix(prefix) }
    }
}
