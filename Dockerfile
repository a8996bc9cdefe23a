# Builds the tessera binary (SQLite, libpq and OpenSSL are compiled from source: no system
# library is needed at run time).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# .git is not copied: pass the commit for tessera_build_info
# (docker build --build-arg TESSERA_GIT_COMMIT=$(git rev-parse HEAD) .), else it reads "unknown".
ARG TESSERA_GIT_COMMIT=
RUN TESSERA_GIT_COMMIT=$TESSERA_GIT_COMMIT cargo build --release --locked -p tessera-server

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 tessera && mkdir /data && chown tessera /data
COPY --from=build /src/target/release/tessera /usr/local/bin/tessera
USER tessera
ENV TESSERA__DATA_DIR=/data \
    TESSERA__SERVER__BIND=0.0.0.0:8080
EXPOSE 8080
# GET /readyz on the configured address (TESSERA__SERVER__BIND, 0.0.0.0 asked as 127.0.0.1):
# healthy when the server answers and its database does.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["tessera", "healthcheck", "--timeout", "3"]
ENTRYPOINT ["tessera"]
CMD ["serve"]
