// Placeholder: call-progress detection lands here.
