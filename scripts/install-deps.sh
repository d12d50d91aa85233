#!/usr/bin/env bash
# Installs what the tests need: Rust targets and components, the toolchain
# of the minimum supported Rust version, Debian packages (Postfix tools,
# swaks, curl, openssl) and aiosmtpd in a local virtual environment under
# .venv/. Safe to run again; it skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf
         riscv32imc-unknown-none-elf wasm32-unknown-unknown)
installed_targets=$(rustup target list --installed)
for target in "${targets[@]}"; do
    if ! grep -qx "$target" <<<"$installed_targets"; then
        rustup target add "$target"
    fi
done
rustup component add rustfmt clippy >/dev/null 2>&1 || rustup component add rustfmt clippy

# The minimum supported Rust version (rust-version in Cargo.toml), which
# scripts/test.sh builds with. The minimal profile has rustc and cargo only.
msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
if ! rustup toolchain list | grep -q "^$msrv-"; then
    rustup toolchain install "$msrv" --profile minimal
fi

missing=()
command -v smtp-sink >/dev/null 2>&1 || [ -x /usr/sbin/smtp-sink ] || missing+=(postfix)
command -v swaks >/dev/null 2>&1 || missing+=(swaks)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    # Postfix asks for a mail configuration at install time; the tests only
    # use its smtp-sink and smtp-source tools, so no configuration is needed.
    echo "postfix postfix/main_mailer_type select No configuration" \
        | "${sudo_cmd[@]}" debconf-set-selections
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if ! .venv/bin/python -c "import aiosmtpd" >/dev/null 2>&1; then
    .venv/bin/pip install --quiet "aiosmtpd==1.4.6"
fi
