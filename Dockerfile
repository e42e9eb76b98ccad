# Builds the release binary. The meta submodule must be checked out (git submodule update
# --init meta), or OPENSLIDES_META_DIR must point to a folder with models.yml in the
# build context.
FROM rust:1-bookworm AS builder
WORKDIR /build
COPY . .
RUN cargo build --release --locked --bin openslides-autoupdate

FROM debian:bookworm-slim
LABEL org.opencontainers.image.title="OpenSlides Autoupdate Service (Rust)"
LABEL org.opencontainers.image.description="Streams OpenSlides datastore values and their changes to clients."
LABEL org.opencontainers.image.licenses="MIT"
COPY --from=builder /build/target/release/openslides-autoupdate /openslides-autoupdate
EXPOSE 9012
ENTRYPOINT ["/openslides-autoupdate"]
HEALTHCHECK CMD ["/openslides-autoupdate", "health"]
