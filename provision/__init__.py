"""Setting escalation-sync up in an org: `doctor` checks it, `provision` creates what is missing."""
