"""crmkit: an embeddable CRM domain library."""
