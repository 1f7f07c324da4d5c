package io.edge.fastcgi.codec;

import java.util.List;
import java.util.Map;

/** GET_VALUES_RESULT: the variables the application chose to answer, in its order. */
public record FcgiGetValuesResult(List<Map.Entry<String, String>> values) implements FcgiMessage {

    public FcgiGetValuesResult {
        values = List.copyOf(values);
    }

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.GET_VALUES_RESULT;
    }

    @Override
    public int requestId() {
        return 0;
    }
}
