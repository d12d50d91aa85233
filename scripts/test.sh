#!/usr/bin/env bash
# Runs every check of this repository in order and stops at the first
# failure, naming the failed step. Installs what the checks need first
# (scripts/install-deps.sh). Prints the time of each step and a summary.
#
# All host and cross builds share one target directory ($CARGO_TARGET_DIR,
# default ./target), including the no-alloc proof, so dependencies built by
# one step are reused by the next one with the same target and features.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Bare-metal and WebAssembly targets the library must build for without std.
cross_targets=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf
               riscv32imc-unknown-none-elf wasm32-unknown-unknown)
proof_dir=ci/no-alloc-proof
proof_target=thumbv7em-none-eabihf
proof_elf="$CARGO_TARGET_DIR/$proof_target/release/no-alloc-proof"

step_names=()
step_times=()
run_start=${EPOCHREALTIME/./}

# Prints microseconds elapsed since $1 (an EPOCHREALTIME without the dot)
# as seconds with one decimal.
elapsed_since() {
    local micros=$(( ${EPOCHREALTIME/./} - $1 ))
    printf '%d.%01d' $(( micros / 1000000 )) $(( micros % 1000000 / 100000 ))
}

print_summary() {
    echo
    echo "Step times (seconds):"
    local i
    for i in "${!step_names[@]}"; do
        printf '  %8s  %s\n' "${step_times[$i]}" "${step_names[$i]}"
    done
    printf '  %8s  %s\n' "$(elapsed_since "$run_start")" "total"
}

# Runs one named step; on failure prints the step name and exit status,
# the summary so far, and exits with that status.
step() {
    local name=$1
    shift
    echo
    echo "==> $name"
    local start=${EPOCHREALTIME/./}
    local status=0
    "$@" || status=$?
    local seconds
    seconds=$(elapsed_since "$start")
    step_names+=("$name")
    step_times+=("$seconds")
    if [ "$status" -ne 0 ]; then
        echo
        echo "FAILED step: $name (exit status $status after ${seconds}s)"
        print_summary
        exit "$status"
    fi
    echo "--> ok: $name (${seconds}s)"
}

# Prints section sizes of an ELF file with the first size tool found: one on
# PATH, the llvm-size of rustup's llvm-tools component, or the Python reader.
print_elf_size() {
    local elf=$1
    local host sysroot_size
    host=$(rustc -vV | sed -n 's/^host: //p')
    sysroot_size="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-size"
    if command -v llvm-size >/dev/null 2>&1; then
        llvm-size "$elf"
    elif command -v arm-none-eabi-size >/dev/null 2>&1; then
        arm-none-eabi-size "$elf"
    elif [ -x "$sysroot_size" ]; then
        "$sysroot_size" "$elf"
    else
        python3 scripts/elf-size.py "$elf"
    fi
}

# The minimum supported Rust version is the `rust-version` in Cargo.toml.
msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
if [ -z "$msrv" ]; then
    echo "FAILED: Cargo.toml has no rust-version line; add the minimum supported Rust version there" >&2
    exit 1
fi

step "install dependencies" scripts/install-deps.sh

step "rustfmt" cargo fmt --all --check
step "rustfmt (no-alloc proof)" cargo fmt --check --manifest-path "$proof_dir/Cargo.toml"

# Library only for the feature sets without std: building tests or examples
# pulls in the `std` feature through the dev-dependency on this crate.
# defmt needs a global logger to link, so it is checked, not tested, on the
# host. `defmt` and `log` are mutually exclusive.
step "clippy, no features" \
    cargo clippy --locked --lib --no-default-features -- -D warnings
step "clippy, log" \
    cargo clippy --locked --lib --no-default-features --features log -- -D warnings
step "clippy, defmt" \
    cargo clippy --locked --lib --no-default-features --features defmt -- -D warnings
step "clippy, cram-md5" \
    cargo clippy --locked --lib --no-default-features --features cram-md5 -- -D warnings
step "clippy, tls" \
    cargo clippy --locked --lib --no-default-features --features tls -- -D warnings
step "clippy, tls-p384,tls-ed25519,defmt" \
    cargo clippy --locked --lib --no-default-features --features tls-p384,tls-ed25519,defmt -- -D warnings
step "clippy, std (all targets)" \
    cargo clippy --locked --all-targets --features std -- -D warnings
step "clippy, std,log (all targets)" \
    cargo clippy --locked --all-targets --features std,log -- -D warnings
step "clippy, tokio (all targets)" \
    cargo clippy --locked --all-targets --features tokio -- -D warnings
step "clippy, std,log,cram-md5,tls,rustls (all targets)" \
    cargo clippy --locked --all-targets --features std,log,cram-md5,tls,rustls -- -D warnings

step "rustdoc, std,tokio,cram-md5,tls,rustls" \
    env RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --features std,tokio,cram-md5,tls,rustls

# RUSTFLAGS reaches only the cross-compiled crates (build scripts run on the
# host are exempt when --target is given), and warnings from registry
# dependencies are capped by cargo, so this denies warnings in this crate.
for target in "${cross_targets[@]}"; do
    step "build $target" \
        env RUSTFLAGS="-D warnings" \
        cargo build --locked --lib --no-default-features --target "$target"
    step "build $target, defmt" \
        env RUSTFLAGS="-D warnings" \
        cargo build --locked --lib --no-default-features --features defmt --target "$target"
    step "build $target, cram-md5" \
        env RUSTFLAGS="-D warnings" \
        cargo build --locked --lib --no-default-features --features cram-md5 --target "$target"
    step "build $target, tls" \
        env RUSTFLAGS="-D warnings" \
        cargo build --locked --lib --no-default-features --features tls --target "$target"
done

# The proof binary defines no global allocator, so its link fails as soon as
# anything in the library's dependency graph links the `alloc` crate.
# Its Cargo.lock follows the library's dependencies, hence no --locked.
step "clippy, no-alloc proof" \
    cargo clippy --manifest-path "$proof_dir/Cargo.toml" --release --target "$proof_target" \
    -- -D warnings
step "build no-alloc proof ($proof_target, release)" \
    cargo build --manifest-path "$proof_dir/Cargo.toml" --release --target "$proof_target"
step "size of no-alloc proof" print_elf_size "$proof_elf"

step "MSRV $msrv: check std,tokio,log,tls,rustls" \
    cargo "+$msrv" check --locked --features tokio,log,tls,rustls

# The dev-dependency on this crate adds tls and rustls to every test build,
# so that the send example always has its TLS flags; they are named here
# too so the list is complete.
step "tests, std,tokio,log,cram-md5,tls,rustls" \
    cargo test --locked --features std,tokio,log,cram-md5,tls,rustls
step "doctests, default features" cargo test --locked --doc

print_summary
