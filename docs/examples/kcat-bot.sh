#!/bin/sh
# A bot as a shell script, with kcat (librdkafka): publish turns, report answers, read the
# directives of your conversations. Input lines are `CONVERSATION_ID<TAB>JSON` (JSON never
# holds a raw tab); the conversation id is the record key.
#
#   kcat-bot.sh turns < turns.tsv          publish turns to conversation.turns
#   kcat-bot.sh events < events.tsv        publish answers and lifecycle events to handoff.events
#   kcat-bot.sh directives ID [ID ...]     print the directives of these conversations so far,
#                                          one `ID<TAB>JSON` line each
#
# Settings: WARMHANDOFF_BOOTSTRAP_SERVERS (default localhost:9092), WARMHANDOFF_TOPIC_PREFIX.
# librdkafka's default partitioner (consistent_random, CRC32) puts a conversation on another
# partition than warmhandoff's own records for it: keep partitioner=murmur2_random, the Java
# client's. (PARTITIONER overrides it, to see what the worker does with the default.)
set -eu

bootstrap=${WARMHANDOFF_BOOTSTRAP_SERVERS:-localhost:9092}
prefix=${WARMHANDOFF_TOPIC_PREFIX:-}
partitioner=${PARTITIONER:-murmur2_random}
tab=$(printf '\t')

publish() {
    kcat -P -b "$bootstrap" -t "$prefix$1" -K "$tab" -X partitioner="$partitioner"
}

case "${1:-}" in
    turns) publish conversation.turns ;;
    events) publish handoff.events ;;
    directives)
        shift
        [ "$#" -gt 0 ] || { echo "kcat-bot.sh: directives needs conversation ids" >&2; exit 2; }
        # Everything so far (-e: stop at the end); a live bot would consume in its own group
        # (-G GROUP) and keep only the keys it holds, as the filter below does.
        kcat -C -b "$bootstrap" -t "${prefix}bot.directives" -o beginning -e -q -f '%k\t%s\n' |
            awk -F "$tab" -v ids="$*" '
                BEGIN { n = split(ids, list, " "); for (i = 1; i <= n; i++) mine[list[i]] = 1 }
                ($1 in mine) { print }'
        ;;
    *)
        echo "usage: kcat-bot.sh turns|events < LINES, or kcat-bot.sh directives ID..." >&2
        exit 2
        ;;
esac
