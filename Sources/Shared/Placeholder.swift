import CHDF5
import CZMQ
public func _linkCheck() -> Int32 { var a: Int32 = 0, b: Int32 = 0, c: Int32 = 0; zmq_version(&a, &b, &c); return a + Int32(H5open()) + Int32(chdf5_native_float() > 0 ? 1 : 0) }
