#!/usr/bin/perl
# Reads ARF reports with Sisimai (Debian's libsisimai-perl, 4.x: Sisimai->make; 5.x: Sisimai->rise) and prints, for
# each file, one line: "<file> <feedbacktype> <recipient,recipient...>" (recipients sorted), or "<file> NONE".
use strict;
use warnings;
use Sisimai;

for my $file (@ARGV) {
    my $list = Sisimai->can('rise') ? Sisimai->rise($file) : Sisimai->make($file);
    if (!$list || !@$list) {
        print "$file NONE\n";
        next;
    }
    my %types = map { ($_->feedbacktype // '') => 1 } @$list;
    my @rcpts = sort map { $_->recipient->address } @$list;
    print "$file ", join(',', sort keys %types), " ", join(',', @rcpts), "\n";
}
