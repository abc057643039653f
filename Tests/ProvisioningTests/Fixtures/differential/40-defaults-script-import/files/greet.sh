#!/bin/sh
echo "bonjour $1 de $2 ($(basename "$0"), $# mots)"
