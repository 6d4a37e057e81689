# One image for every subcommand: `securedra kubelet-plugin`, `securedra controller`, ... (ENTRYPOINT).
# Build: docker build -t securedra:0.1.0 .   (--platform linux/arm64 for Arm nodes)
# BuildKit's built-in Dockerfile frontend is used on purpose: a `# syntax=` line would pull an
# unpinned frontend image at build time.
#
# Base images are pinned by version tag AND digest. The digests were taken from public
# Dockerfiles that pin the same tags (no registry is reachable from the machine this was written
# on); refresh both with `docker buildx imagetools inspect <image>:<tag>` when upgrading.

# Build stage: the SDK's "-aot" variant already carries clang, lld and zlib for Native AOT, so no
# package manager runs here either.
FROM mcr.microsoft.com/dotnet/sdk:10.0.401-noble-aot@sha256:1a069a730888d278b5ac00e3e238707387d20d2b65f0fc6866b6180df0a767e0 AS build
ARG TARGETARCH
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1 \
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
WORKDIR /src
# Restore inputs first, so source edits keep the restore layer.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY protos/ protos/
COPY src/ src/
RUN case "${TARGETARCH:-amd64}" in \
      amd64) rid=linux-x64 ;; \
      arm64) rid=linux-arm64 ;; \
      *) echo "unsupported TARGETARCH ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
 && dotnet publish src/Cli/SecureDra.Cli.csproj -c Release -r "$rid" \
      -p:PublishAot=true -p:StripSymbols=true -p:DebugType=none \
      -o /out \
 && test -x /out/securedra \
 && rm -f /out/*.dbg /out/*.pdb

# Runtime stage: Ubuntu chiseled runtime-deps (glibc, libstdc++, OpenSSL for the webhook's TLS,
# CA certificates). No shell, no package manager, nothing to exec into. NVML and CUDA are not in
# the image: the NVIDIA container runtime injects the node driver's libraries into the plugin pod.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0.12-noble-chiseled@sha256:dc5cd0c7d0a39b825312b4f0986d99b9adf9b6a3af69bc23cd345c27d9ed916a
LABEL org.opencontainers.image.title="securedra" \
      org.opencontainers.image.description="SecureDra: a hardened Kubernetes DRA driver for NVIDIA GPUs" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build --chown=0:0 --chmod=0555 /out/securedra /securedra
# No diagnostic IPC socket: nothing can attach a debugger or profiler to the running process.
ENV DOTNET_EnableDiagnostics=0
# Non-root by default (the controller). The kubelet-plugin DaemonSet overrides runAsUser to 0,
# with every capability dropped, to write into the kubelet's root-owned directories (see
# deploy/helm/securedra/templates/kubelet-plugin-daemonset.yaml and docs/hardening.md).
USER 65532:65532
ENTRYPOINT ["/securedra"]
