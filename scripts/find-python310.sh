#!/usr/bin/env sh
# Print the path of a Python 3.10 interpreter (Rasa 3.6 needs >=3.8,<3.11), or explain what
# to install and exit 1. $PYTHON310 wins when set; then python3.10 on PATH; then pyenv's and
# the usual system locations.
is310() {
    [ -n "$1" ] && "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1
}
pyenv_root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for candidate in "${PYTHON310:-}" "$(command -v python3.10 2>/dev/null)" \
        "$pyenv_root"/versions/3.10*/bin/python /usr/local/bin/python3.10 /usr/bin/python3.10; do
    if is310 "$candidate"; then
        "$candidate" -c 'import sys; print(sys.executable)'
        exit 0
    fi
done
echo "error: no Python 3.10 interpreter found (Rasa 3.6.21 needs Python >=3.8,<3.11); install one (e.g. 'pyenv install 3.10.13' or 'apt-get install python3.10 python3.10-venv') or set PYTHON310=/path/to/python3.10." >&2
exit 1
