import CMosquitto

/// The libmosquitto in use (`sitegate support-bundle` records it).
public enum MosquittoLibrary {
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        mosquitto_lib_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }
}
