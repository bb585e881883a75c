#!/bin/sh
# Installs the Debian packages papermode needs, when they are missing.
# As root it runs apt-get; as a user it says exactly what to install and stops.
set -eu

PACKAGES="tesseract-ocr tesseract-ocr-fra tesseract-ocr-nld poppler-utils fonts-dejavu-core fonts-droid-fallback chromium"
missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done

# Debian ships venv support separately from Python itself.
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing="$missing python3-venv"
fi

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    echo "papermode: installing system packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    exit 0
fi

echo "papermode needs these Debian packages, which are not installed:$missing"
echo "Ask an administrator to run:"
echo "    sudo apt-get install -y$missing"
echo "then run this command again."
exit 1
