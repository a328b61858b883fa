#!/usr/bin/env bash
# Writes a public MovieLens ratings set as user_id,item_id,rating,timestamp CSV, sorted by time
# (ties keep the package's row order), for `sluice demo recs --input`:
#   bash examples/recommendations/movielens-dslabs.sh [OUT.csv]   (default .scratch/movielens/ratings.csv)
# The data: GroupLens' ml-latest-small, 2016 edition (100,004 ratings, 671 users, 9,066 movies),
# as Debian's r-cran-dslabs package (0.7.4-1, CRAN dslabs, Artistic-2.0) ships it in its lazy-load
# database (object `movielens`). MovieLens data: GroupLens' usage licence (research use,
# acknowledgement; redistribution under the same licence), see README.md. Needs apt-get (the
# package is downloaded, not installed) and Rscript (apt-get install r-base-core) to read the
# R database; nothing is kept but the CSV.
set -euo pipefail
out=${1:-.scratch/movielens/ratings.csv}
command -v Rscript >/dev/null || { echo "needs Rscript: apt-get install r-base-core" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download r-cran-dslabs >/dev/null 2>&1 || { apt-get update -qq && apt-get download r-cran-dslabs >/dev/null; }
dpkg -x r-cran-dslabs_*.deb x
Rscript -e '
invisible(lazyLoad("x/usr/lib/R/site-library/dslabs/data/Rdata", filter = function(n) n == "movielens"))
d <- movielens[order(movielens$timestamp), c("userId", "movieId", "rating", "timestamp")]
names(d) <- c("user_id", "item_id", "rating", "timestamp")
write.csv(d, commandArgs(TRUE)[1], row.names = FALSE, quote = FALSE)
' "$out"
echo "$(($(wc -l <"$out") - 1)) ratings -> $out"
