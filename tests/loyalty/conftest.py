"""The loyalty tests build their programs in each module (see the helpers at their top)."""
