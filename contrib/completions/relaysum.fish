function __relaysum_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __relaysum_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __relaysum_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __relaysum_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __relaysum_parse_tokens -S
    set -l unparsed_tokens (__relaysum_tokens -pc)
    switch $unparsed_tokens[1]
    case 'relaysum'
        __relaysum_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'ingest'
            __relaysum_parse_subcommand -r 1 'db=' 'timezone=' 'mta=' 'host=' 'year=' 'quiet' 'wait=' 'max-open-messages=' 'verbose' 'no-bulk-load' 'version' 'h/help'
        case 'summary'
            __relaysum_parse_subcommand 0 'db=' 'timezone=' 'format=' 'since=' 'until=' 'by=' 'top=' 'host=' 'sender=' 'recipients' 'ids' 'sort=' 'version' 'h/help'
        case 'rejects'
            __relaysum_parse_subcommand 0 'db=' 'timezone=' 'format=' 'since=' 'until=' 'by=' 'auth-failures' 'top=' 'host=' 'sender=' 'sort=' 'version' 'h/help'
        case 'export'
            __relaysum_parse_subcommand 1 'db=' 'timezone=' 'format=' 'since=' 'until=' 'host=' 'sender=' 'version' 'h/help'
        case 'license'
            __relaysum_parse_subcommand 0 'db=' 'timezone=' 'format=' 'since=' 'until=' 'by=' 'registrable' 'public-suffix-list=' 'count' 'host=' 'version' 'h/help'
        case 'anomalies'
            __relaysum_parse_subcommand 0 'db=' 'timezone=' 'format=' 'since=' 'until=' 'config=' 'account=' 'fail-on=' 'version' 'h/help'
        case 'arf'
            __relaysum_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'build'
                __relaysum_parse_subcommand 0 'db=' 'timezone=' 'config=' 'since=' 'out=' 'version' 'h/help'
            case 'send'
                __relaysum_parse_subcommand 0 'db=' 'timezone=' 'config=' 'since=' 'dry-run' 'version' 'h/help'
            end
        case 'config'
            __relaysum_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'check'
                __relaysum_parse_subcommand 0 'config=' 'version' 'h/help'
            end
        case 'report'
            __relaysum_parse_subcommand 0 'db=' 'timezone=' 'html=' 'since=' 'until=' 'top=' 'version' 'h/help'
        case 'prune'
            __relaysum_parse_subcommand 0 'db=' 'timezone=' 'config=' 'older-than=' 'dry-run' 'no-vacuum' 'version' 'h/help'
        case 'help'
            __relaysum_parse_subcommand -r 1 'version'
        end
    end
end

function __relaysum_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __relaysum_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __relaysum_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __relaysum_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__relaysum_tokens -p)
    if test -z "$(__relaysum_tokens -t)"
        set -l index (count (__relaysum_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'relaysum' -f
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'ingest' -d 'Reads Postfix or Exim logs (plain or gzip, or - for stdin) into the database; only new lines.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'summary' -d 'Totals per sender, sender domain, account, client IP or recipient domain.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'rejects' -d 'Rejected attempts, or failed logins, per client IP, account, sender or reason.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'export' -d 'Streams stored rows (messages, recipients, rejects or auth-failures) as CSV or JSON Lines.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'license' -d 'Distinct sending domains in the period, in total and per outgoing user (licence counts).'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'anomalies' -d 'Accounts whose sending departs from their own history: compromised, or worth a review.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'arf' -d 'Builds and mails RFC 5965 abuse reports (ARF) for blocked messages and compromised accounts.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'config' -d 'Checks the configuration file.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'report' -d 'Writes one self-contained HTML page with charts of the period (traffic, outcomes, top senders).'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'prune' -d 'Deletes stored data older than a cut and gives the space back (retention).'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" db' -l 'db' -d 'The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" timezone' -l 'timezone' -d 'Time zone for classic syslog stamps and for dates without a zone (default: the system\'s).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" mta' -l 'mta' -d 'Which MTA wrote the logs: auto, postfix or exim (default: auto, told apart by content).' -rfka 'auto postfix exim'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" host' -l 'host' -d 'Record every line under this relay name instead of the syslog host name.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" year' -l 'year' -d 'The year of the first classic syslog stamp (default: inferred from the file\'s time).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" quiet' -l 'quiet' -d 'Print nothing but errors (for cron).'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" wait' -l 'wait' -d 'Wait up to this many seconds for another ingest on the database to finish (default: 0, fail at once).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" max-open-messages' -l 'max-open-messages' -d 'Open messages kept in memory per MTA; beyond it the least recently seen are closed (default: 200000).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" verbose' -l 'verbose' -d 'Also print each file as it is finished, with its size and speed.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" no-bulk-load' -l 'no-bulk-load' -d 'Write even the first ingest into an empty database through SQLite\'s write-ahead log, flushed to disk at each checkpoint (slower; reports read beside it without waiting for its commits).'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum ingest" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" db' -l 'db' -d 'The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" timezone' -l 'timezone' -d 'Time zone for classic syslog stamps and for dates without a zone (default: the system\'s).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" format' -l 'format' -d 'Output format: table, csv or json (default: table on a terminal, else csv).' -rfka 'table csv json'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" since' -l 'since' -d 'Only messages received at or after this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" until' -l 'until' -d 'Only messages received before this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" by' -l 'by' -d 'Group by sender, sender-domain, account, client-ip or recipient-domain (default: sender).' -rfka 'sender sender-domain account client-ip recipient-domain'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" top' -l 'top' -d 'Show only the first N rows (default: all).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" host' -l 'host' -d 'Only this relay (the host name recorded at ingest; default: all relays).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" sender' -l 'sender' -d 'Only these senders: an address, a domain (exact; or @domain), a local part at every domain (user or user@), or <> (default: all).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" recipients' -l 'recipients' -d 'Add a row per recipient address under each row.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" ids' -l 'ids' -d 'Add the queue or message IDs of each row\'s messages, oldest first.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" sort' -l 'sort' -d 'Sort by key, messages, recipients, delivered, deferred, bounced, bytes, first-seen or last-seen; all but key largest or latest first (default: messages).' -rfka 'key messages recipients delivered deferred bounced bytes first-seen last-seen'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum summary" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" db' -l 'db' -d 'The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" timezone' -l 'timezone' -d 'Time zone for classic syslog stamps and for dates without a zone (default: the system\'s).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" format' -l 'format' -d 'Output format: table, csv or json (default: table on a terminal, else csv).' -rfka 'table csv json'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" since' -l 'since' -d 'Only messages received at or after this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" until' -l 'until' -d 'Only messages received before this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" by' -l 'by' -d 'Group by client-ip, account, sender or reason (default: client-ip).' -rfka 'client-ip account sender reason'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" auth-failures' -l 'auth-failures' -d 'Show failed logins (SMTP AUTH) instead of rejected attempts.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" top' -l 'top' -d 'Show only the first N rows (default: all).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" host' -l 'host' -d 'Only this relay (the host name recorded at ingest; default: all relays).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" sender' -l 'sender' -d 'Only attempts from these senders: an address, a domain (exact; or @domain), a local part at every domain (user or user@), or <> (default: all).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" sort' -l 'sort' -d 'Sort by key, attempts, clients, first-seen or last-seen; all but key largest first (default: attempts).' -rfka 'key attempts clients first-seen last-seen'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum rejects" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum export" db' -l 'db' -d 'The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum export" timezone' -l 'timezone' -d 'Time zone for classic syslog stamps and for dates without a zone (default: the system\'s).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum export" format' -l 'format' -d 'Output format: table, csv or json (default: table on a terminal, else csv).' -rfka 'table csv json'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum export" since' -l 'since' -d 'Only messages received at or after this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum export" until' -l 'until' -d 'Only messages received before this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum export" -eq 1' -fka 'messages recipients rejects auth-failures'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum export" host' -l 'host' -d 'Only this relay (the host name recorded at ingest; default: all relays).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum export" sender' -l 'sender' -d 'Only messages (or rejects) from these senders: an address, a domain (exact; or @domain), a local part at every domain (user or user@), or <> (default: all).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum export" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum export" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" db' -l 'db' -d 'The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" timezone' -l 'timezone' -d 'Time zone for classic syslog stamps and for dates without a zone (default: the system\'s).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" format' -l 'format' -d 'Output format: table, csv or json (default: table on a terminal, else csv).' -rfka 'table csv json'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" since' -l 'since' -d 'Only messages received at or after this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" until' -l 'until' -d 'Only messages received before this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" by' -l 'by' -d 'List per domain, or per account and domain (default: domain).' -rfka 'domain account'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" registrable' -l 'registrable' -d 'Fold subdomains to their registrable domain (mail.shop.example.co.uk counts as example.co.uk).'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" public-suffix-list' -l 'public-suffix-list' -d 'The Public Suffix List for --registrable (default: /usr/share/publicsuffix/public_suffix_list.dat).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" count' -l 'count' -d 'Print only the number of distinct sending domains.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" host' -l 'host' -d 'Only this relay (the host name recorded at ingest; default: all relays).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum license" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum anomalies" db' -l 'db' -d 'The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum anomalies" timezone' -l 'timezone' -d 'Time zone for classic syslog stamps and for dates without a zone (default: the system\'s).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum anomalies" format' -l 'format' -d 'Output format: table, csv or json (default: table on a terminal, else csv).' -rfka 'table csv json'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum anomalies" since' -l 'since' -d 'Only messages received at or after this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum anomalies" until' -l 'until' -d 'Only messages received before this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum anomalies" config' -l 'config' -d 'The configuration file (default: $RELAYSUM_CONFIG, else /etc/relaysum/relaysum.toml if it exists, else built-in defaults).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum anomalies" account' -l 'account' -d 'Only this account, as relaysum names it (sasl:<login>, ip:<client address>, local:<user>).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum anomalies" fail-on' -l 'fail-on' -d 'Exit with status 2 if a finding is at least this bad: compromised or review.' -rfka 'compromised review'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum anomalies" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum anomalies" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum arf" -eq 1' -fa 'build' -d 'Builds the reports not built yet, stores them, and writes the unsent ones as .eml files.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum arf" -eq 1' -fa 'send' -d 'Builds new reports, then delivers every pending and failed one through the configured transport.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf build" db' -l 'db' -d 'The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf build" timezone' -l 'timezone' -d 'Time zone for classic syslog stamps and for dates without a zone (default: the system\'s).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf build" config' -l 'config' -d 'The configuration file (default: $RELAYSUM_CONFIG, else /etc/relaysum/relaysum.toml if it exists, else built-in defaults).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf build" since' -l 'since' -d 'Only activity at or after this time: an ISO 8601 date or date-time, or 24h, 7d (default: all).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf build" out' -l 'out' -d 'The directory to write the .eml files to (created if missing; default: none, only store).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf build" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf build" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf send" db' -l 'db' -d 'The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf send" timezone' -l 'timezone' -d 'Time zone for classic syslog stamps and for dates without a zone (default: the system\'s).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf send" config' -l 'config' -d 'The configuration file (default: $RELAYSUM_CONFIG, else /etc/relaysum/relaysum.toml if it exists, else built-in defaults).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf send" since' -l 'since' -d 'Only activity at or after this time: an ISO 8601 date or date-time, or 24h, 7d (default: all).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf send" dry-run' -l 'dry-run' -d 'List what would be sent where, and change nothing.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf send" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum arf send" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum config" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum config" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_positional "relaysum config" -eq 1' -fa 'check' -d 'Reads the configuration file and prints OK and the effective settings, or its problems.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum config check" config' -l 'config' -d 'The configuration file (default: $RELAYSUM_CONFIG, else /etc/relaysum/relaysum.toml if it exists, else built-in defaults).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum config check" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum config check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum report" db' -l 'db' -d 'The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum report" timezone' -l 'timezone' -d 'Time zone for classic syslog stamps and for dates without a zone (default: the system\'s).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum report" html' -l 'html' -d 'The HTML file to write (- for standard output).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum report" since' -l 'since' -d 'Only messages received at or after this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum report" until' -l 'until' -d 'Only messages received before this time: an ISO 8601 date or date-time, or 24h, 7d.' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum report" top' -l 'top' -d 'How many accounts and sending domains to list (default: 10).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum report" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum report" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum prune" db' -l 'db' -d 'The SQLite database (default: $RELAYSUM_DB, else ./relaysum.sqlite).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum prune" timezone' -l 'timezone' -d 'Time zone for classic syslog stamps and for dates without a zone (default: the system\'s).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum prune" config' -l 'config' -d 'The configuration file (default: $RELAYSUM_CONFIG, else /etc/relaysum/relaysum.toml if it exists, else built-in defaults).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum prune" older-than' -l 'older-than' -d 'Delete what is older than this: a span back from now (90d, 12w) or an ISO 8601 date or date-time, rounded down to its UTC day (default: older_than in the [retention] section of the configuration file).' -rfka ''
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum prune" dry-run' -l 'dry-run' -d 'Print what would be deleted, and delete nothing.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum prune" no-vacuum' -l 'no-vacuum' -d 'Do not VACUUM afterwards (the freed pages are reused by later ingests, but the file stays as large).'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum prune" version' -l 'version' -d 'Show the version.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum prune" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'relaysum' -n '__relaysum_should_offer_completions_for_flags_or_options "relaysum help" version' -l 'version' -d 'Show the version.'
