/// The version of circuits, written into every shard and aggregate.
public enum CircuitsVersion {
    public static let string = "0.1.0"
}
