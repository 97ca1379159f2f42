import CModbus

/// The libmodbus this binary was built against (`sitegate support-bundle` records it).
public enum ModbusLibrary {
    public static var version: String { "\(libmodbus_version_major).\(libmodbus_version_minor).\(libmodbus_version_micro)" }
}
