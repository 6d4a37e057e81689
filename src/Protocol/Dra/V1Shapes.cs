namespace SecureDra.Protocol.Dra.V1;

// The generated V1 messages, declared to have the shape both DRAPlugin versions share (DraMessageShapes.cs).
public sealed partial class Claim : IDraClaim { }

public sealed partial class NodePrepareResourcesRequest : IDraClaimsRequest<Claim> { }

public sealed partial class NodeUnprepareResourcesRequest : IDraClaimsRequest<Claim> { }

public sealed partial class NodePrepareResourcesResponse : IDraClaimsResponse<NodePrepareResourceResponse> { }

public sealed partial class NodeUnprepareResourcesResponse : IDraClaimsResponse<NodeUnprepareResourceResponse> { }

public sealed partial class NodePrepareResourceResponse : IDraPrepareEntry<Device> { }

public sealed partial class NodeUnprepareResourceResponse : IDraUnprepareEntry { }

public sealed partial class Device : IDraDevice { }
