// The numeric element types the HDF5 wrapper reads and writes, and their HDF5 type ids.
// Bools and strings are not `HDF5Element`s: they have their own methods (`writeBools`,
// `writeStrings`) because their memory layout differs from their stored one.
import CHDF5

/// How a numeric element is stored in an HDF5 file: always little-endian, as h5py writes.
public enum HDF5ElementType: String, Sendable, CaseIterable {
    /// IEEE binary32 (`H5T_IEEE_F32LE`, numpy `float32`).
    case float32
    /// IEEE binary64 (`H5T_IEEE_F64LE`, numpy `float64`).
    case float64
    /// Signed 8-bit integer (`H5T_STD_I8LE`, numpy `int8`).
    case int8
    /// Unsigned 8-bit integer (`H5T_STD_U8LE`, numpy `uint8`).
    case uint8
    /// Signed 32-bit integer (`H5T_STD_I32LE`, numpy `int32`).
    case int32
    /// Signed 64-bit integer (`H5T_STD_I64LE`, numpy `int64`).
    case int64

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .int8, .uint8: 1
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }

    /// The type id written to files (a predefined HDF5 type: never closed).
    var fileType: hid_t {
        switch self {
        case .float32: chdf5_ieee_f32le()
        case .float64: chdf5_ieee_f64le()
        case .int8: chdf5_std_i8le()
        case .uint8: chdf5_std_u8le()
        case .int32: chdf5_std_i32le()
        case .int64: chdf5_std_i64le()
        }
    }

    /// The type id of the Swift values in memory (a predefined HDF5 type: never closed).
    var memoryType: hid_t {
        switch self {
        case .float32: chdf5_native_float()
        case .float64: chdf5_native_double()
        case .int8: chdf5_native_int8()
        case .uint8: chdf5_native_uint8()
        case .int32: chdf5_native_int32()
        case .int64: chdf5_native_int64()
        }
    }
}

/// A Swift numeric type the HDF5 wrapper can store, with the HDF5 type it is stored as.
///
/// Reads convert from whatever numeric type is stored (HDF5 conversion: integers to floats,
/// floats to integers with clipping, narrowing with clipping), so a dataset written as `Int32`
/// reads back as `Double` too.
public protocol HDF5Element: Sendable {
    /// The stored type; its in-memory layout must be exactly `Self`'s.
    static var hdf5Type: HDF5ElementType { get }
}

extension Float: HDF5Element { public static var hdf5Type: HDF5ElementType { .float32 } }
extension Double: HDF5Element { public static var hdf5Type: HDF5ElementType { .float64 } }
extension Int8: HDF5Element { public static var hdf5Type: HDF5ElementType { .int8 } }
extension UInt8: HDF5Element { public static var hdf5Type: HDF5ElementType { .uint8 } }
extension Int32: HDF5Element { public static var hdf5Type: HDF5ElementType { .int32 } }
extension Int64: HDF5Element { public static var hdf5Type: HDF5ElementType { .int64 } }

/// `Int` is stored as `int64` (all supported platforms are 64-bit).
extension Int: HDF5Element {
    public static var hdf5Type: HDF5ElementType {
        assert(MemoryLayout<Int>.size == 8, "HDF5 stores Int as int64: 64-bit platforms only")
        return .int64
    }
}
